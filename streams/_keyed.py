"""The second step of the distributed runner: one keyed partition's share of the engine.

Events arrive here from every source partition, interleaved as the router workers happened
to read them. They wait in a buffer until every source has passed their time (the lowest
watermark of the sources that are not idle), then go through the pipeline in event-time
order, so a rule sees them in the order the replay of the same data would.

The buffer is not stored: the worker acknowledges a buffered message only once it has been
processed, so after a crash the broker delivers it again.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Collection

from monitor import Pipeline, RawRecord

from ._messages import Mark, Message, Routed
from ._table_state import TableCheckpoint, TableEntries

PipelineFactory = Callable[[TableCheckpoint], Pipeline]


class KeyedPartition:
    """Buffer, source watermarks and pipeline of one keyed partition."""

    def __init__(
        self,
        entries: TableEntries,
        make_pipeline: PipelineFactory,
        *,
        sources: Collection[str],
        lateness: float,
        batch_size: int,
        idle_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._expected = frozenset(sources)
        self._lateness = lateness
        self._idle_after = idle_after
        self._clock = clock
        self._busy_since: float | None = None  # when events started to flow
        self._awaited: frozenset[str] = frozenset()  # the sources idle at that moment
        self._batch_size = batch_size
        self._checkpoint = TableCheckpoint(entries)
        self.pipeline = make_pipeline(self._checkpoint)
        # Not stored: a mark is only safe to act on once every event before it in the keyed
        # partition has been read, and after a restart those are read again from the last
        # committed offset, marks with them; until each source has spoken, nothing is let out.
        self._marks: dict[str, Mark] = {}
        self._buffer: dict[str, Routed] = {}
        self._order: list[tuple[float, int, str]] = []
        self._arrivals = 0
        self.done: list[str] = []

    def take(self, message: Message) -> list[str]:
        """Note a watermark, or buffer the events not seen before; the digests of those
        buffered (each is done once ``release`` puts it in ``done``).

        An event also tells how far its source has been read: sources are read in order, so
        time moves on without waiting for the next clock tick's watermark."""
        if isinstance(message, Mark):
            self._note(message)
            return []
        buffered = []
        read_up_to: dict[str, float] = {}
        for event in message.events:
            source = event.origin.rpartition("@")[0]  # topic/partition@offset
            read_up_to[source] = max(event.time, read_up_to.get(source, event.time))
            if event.digest in self._buffer or self._checkpoint.seen(event.digest):
                continue
            self._buffer[event.digest] = event
            heapq.heappush(self._order, (event.time, self._arrivals, event.digest))
            self._arrivals += 1
            buffered.append(event.digest)
        for source, at in read_up_to.items():
            self._note(Mark(source, at, False))
        return buffered

    def release(self) -> None:
        """Process the buffered events every source has passed, in time order (by arrival
        on ties), then move the engine's time to the sources' low watermark. The digests of
        the events processed go to ``done``; if storing fails, the events not stored stay
        buffered, and the pipeline's working state is back to what was stored."""
        low = self.low_watermark() - self._lateness
        while self._order and self._order[0][0] <= low:
            taken: list[tuple[float, int, str]] = []
            while self._order and self._order[0][0] <= low and len(taken) < self._batch_size:
                taken.append(heapq.heappop(self._order))
            chunk = [self._buffer[digest] for _, _, digest in taken]
            try:
                self.pipeline.process([_record(message) for message in chunk])
            except BaseException:
                for item in taken:
                    heapq.heappush(self._order, item)
                raise
            for message in chunk:
                del self._buffer[message.digest]
                self.done.append(message.digest)
        if low > self.pipeline.engine.watermark:
            self.pipeline.advance(low)

    def low_watermark(self) -> float:
        """Event time every source has passed: the lowest watermark of the sources that are
        not idle (the highest of all when every one is idle); -inf until all have reported.

        When events start to flow after a quiet spell, the sources that were idle are waited
        for during ``idle_after``, until each reports again, and so are the sources never read:
        one may be about to read older events of the same load (it was idle only because
        nothing had reached it yet)."""
        if not self._expected <= self._marks.keys():
            return float("-inf")
        marks = [self._marks[name] for name in self._expected]
        busy = [_time(mark) for mark in marks if not mark.idle]
        if not busy:
            self._busy_since, self._awaited = None, frozenset()
            return max((_time(mark) for mark in marks), default=float("-inf"))
        now = self._clock()
        if self._busy_since is None:
            self._busy_since = now
            self._awaited = frozenset(m.source for m in marks if m.idle)
        awaited = any(
            mark.idle and (mark.source in self._awaited or mark.watermark is None) for mark in marks
        )
        if awaited and now - self._busy_since < self._idle_after:
            return float("-inf")
        return min(busy)

    @property
    def buffered(self) -> int:
        """Events waiting for the sources' watermark."""
        return len(self._buffer)

    def _note(self, mark: Mark) -> None:
        known = self._marks.get(mark.source)
        if known is not None and _time(known) > _time(mark):
            mark = Mark(mark.source, known.watermark, mark.idle)  # time never goes back
        self._marks[mark.source] = mark


def _record(message: Routed) -> RawRecord:
    return RawRecord(message.raw, message.origin, message.rules, message.home)


def _time(mark: Mark) -> float:
    return float("-inf") if mark.watermark is None else mark.watermark
