"""Noticing the messages faust skipped, so an agent can go back for them.

While its tables recover, faust keeps fetching the partitions it has paused and drops what
it fetched; the seek back to the committed offsets that follows races with fetches from the
later position. A restarted worker, or one taking over partitions, then got a message from
further on first, and faust dropped the messages before it as already read, and counted them
as acknowledged (seen after ``kill -9``: bundles of events lost, tickets wrong). Every agent
checks each message against the position it expects next; on a gap it reads the partition
again from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from faust.types import TP


class ReadPositions:
    """The next offset expected of each partition: where reading starts after a rebalance
    (the committed offset, or the earliest where nothing was committed), then the one after
    the last message taken. A partition with no known start takes its first message as it
    comes."""

    def __init__(self) -> None:
        self._next: dict[TP, int] = {}
        self._rewinding: dict[TP, int] = {}

    def restart(self, starts: Mapping[TP, int]) -> None:
        """A rebalance is complete: reading starts again at these offsets."""
        self._next = dict(starts)
        self._rewinding.clear()

    def missing(self, tp: TP, offset: int) -> int | None:
        """The first offset skipped before ``offset``; or ``None``, and the message is taken:
        it is the next one, or one read again."""
        expected = self._next.get(tp)
        if expected is not None and offset > expected:
            return expected
        self._next[tp] = max(offset + 1, expected or 0)
        self._rewinding.pop(tp, None)
        return None

    def rewind(self, tp: TP, offset: int) -> bool:
        """Note that ``tp`` is read again from ``offset``; whether that is news (messages
        fetched before the seek keep coming for a while)."""
        news = self._rewinding.get(tp) != offset
        self._rewinding[tp] = offset
        return news

    def forget(self, tps: Iterable[TP]) -> None:
        """These partitions moved to another worker."""
        for tp in tps:
            self._next.pop(tp, None)
            self._rewinding.pop(tp, None)
