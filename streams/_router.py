"""The first step of the distributed runner: validate each source message, then send it to
the keyed partitions that own its rule keys; keep each source partition's watermark.

Pure: the faust worker feeds it messages and clock ticks and sends what it returns.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from monitor import DeadLetter, RawRecord, assign, event_digest, parse_records
from rules import RuleBook

from ._messages import Bundle, Mark, Message, Routed

Sends = list[tuple[int, Message]]


@dataclass
class _Progress:
    """How far one source partition has been read."""

    watermark: float | None = None
    last_read: float = field(default_factory=time.monotonic)


class Router:
    """Routes source messages to keyed partitions and reports per-source watermarks."""

    def __init__(
        self,
        book: RuleBook,
        *,
        partitions: int,
        max_future: float,
        idle_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._book = book
        self._partitions = partitions
        self._max_future = max_future
        self._idle_after = idle_after
        self._clock = clock
        self._progress: dict[str, _Progress] = {}

    def route(self, records: Sequence[tuple[RawRecord, str]]) -> tuple[Sends, list[DeadLetter]]:
        """Where a batch of messages goes, one bundle per keyed partition, and dead letters
        for the messages that are not valid events. Each record comes with its source
        (``topic/partition``)."""
        now = self._clock()
        parsed, letters = parse_records(
            [record for record, _ in records], time.time() + self._max_future
        )
        sources = {record.origin: source for record, source in records}
        for _, source in records:
            self._progress.setdefault(source, _Progress()).last_read = now
        bundles: defaultdict[int, list[Routed]] = defaultdict(list)
        for event, record in parsed:
            owners, home = assign(event, self._book.current.rules, self._partitions)
            owners.setdefault(home, frozenset())
            digest = event_digest(event)
            for partition, rules in owners.items():
                routed = Routed(record.raw, digest, event.timestamp, rules, partition == home,
                                record.origin)  # fmt: skip
                bundles[partition].append(routed)
            progress = self._progress[sources[record.origin]]
            if progress.watermark is None or event.timestamp > progress.watermark:
                progress.watermark = event.timestamp
        sends: Sends = [(p, Bundle(tuple(events))) for p, events in bundles.items()]
        return sends, letters

    def note(self, source: str, at: float) -> None:
        """A producer's watermark read from ``source``: it has been read up to ``at``."""
        progress = self._progress.setdefault(source, _Progress())
        progress.last_read = self._clock()
        if progress.watermark is None or at > progress.watermark:
            progress.watermark = at

    def marks(self, sources: dict[str, bool]) -> Sends:
        """Watermarks of ``sources`` (source → whether it is caught up), for every keyed
        partition. A caught-up source quiet for ``idle_after`` is idle, and its time runs
        on with the wall clock from its last event."""
        now = self._clock()
        sends: Sends = []
        for source, caught_up in sources.items():
            progress = self._progress.setdefault(source, _Progress(last_read=now))
            quiet = now - progress.last_read
            idle = caught_up and quiet >= self._idle_after
            watermark = progress.watermark
            if idle and watermark is not None:
                watermark += quiet
            mark = Mark(source, watermark, idle)
            sends.extend((partition, mark) for partition in range(self._partitions))
        return sends

    def quiet(self, sources: Iterable[str]) -> list[str]:
        """The sources that have read nothing for ``idle_after``: only they can be idle, if
        they are caught up too."""
        now = self._clock()
        return [
            source
            for source in sources
            if now - self._progress.setdefault(source, _Progress(last_read=now)).last_read
            >= self._idle_after
        ]

    def forget(self, source: str) -> None:
        """Another worker reads ``source`` now."""
        self._progress.pop(source, None)
