"""A faust Table whose changelog writes can be awaited.

faust queues a table's writes in its producer buffer, and its commit flushes that buffer
for at most a tenth of a second before it commits the offsets: under load, offsets went in
before the state they stand on, and a crash then lost state no message would bring back (a
shipment's hand-over forgotten, its timer fired). The worker awaits ``written`` before it
acknowledges a message, so a committed offset always has its state in the changelog.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.types import FutureMessage


class ChangelogTable(faust.Table):  # type: ignore[misc]  # faust's classes are untyped here
    """A Table that keeps the futures of the changelog writes not awaited yet."""

    def __init__(self, app: faust.App, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._sending: list[FutureMessage] = []

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        future = super().send_changelog(*args, **kwargs)
        self._sending.append(future)
        return future

    async def written(self) -> None:
        """Wait until the broker has every changelog write made so far (raises if one
        failed: faust's producer gave up on it)."""
        sending, self._sending = self._sending, []
        if sending:
            await asyncio.gather(*sending)


def changelog_table(app: faust.App, name: str, **kwargs: Any) -> ChangelogTable:
    """A ``ChangelogTable`` registered with ``app``, like ``app.Table`` makes a Table."""
    table = ChangelogTable(app, name=name, beacon=app.tables.beacon, **kwargs)
    app.tables.add(table)
    return table
