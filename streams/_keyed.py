"""The second step of the distributed runner: one keyed partition's share of the engine.

Events arrive here from every source partition, interleaved as the router workers happened
to read them. They wait in a buffer until every source has passed their time (the lowest
watermark of the sources that are not idle), then go through the pipeline in event-time
order, so a rule sees them in the order the replay of the same data would.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterator
from typing import Any

from monitor import Pipeline, RawRecord, TicketChange

from ._messages import Mark, Message, Routed
from ._table_state import TableCheckpoint, TableEntries

PipelineFactory = Callable[[TableCheckpoint], Pipeline]


class KeyedPartition:
    """Buffer, source watermarks and pipeline of one keyed partition, kept in the table."""

    def __init__(
        self,
        entries: TableEntries,
        make_pipeline: PipelineFactory,
        *,
        sources: Collection[str],
        lateness: float,
        batch_size: int,
    ) -> None:
        self._entries = entries
        self._expected = frozenset(sources)
        self._lateness = lateness
        self._batch_size = batch_size
        self._checkpoint = TableCheckpoint(entries)
        self.pipeline = make_pipeline(self._checkpoint)
        self._marks = {name: Mark(name, at, idle) for name, (at, idle) in entries.of_kind("mark")}
        self._buffer = {d: _routed(d, fields) for d, fields in entries.of_kind("buffer")}
        self._order = [(m.time, seq, digest) for digest, (m, seq) in self._buffer.items()]
        heapq.heapify(self._order)
        self._next_seq = max((seq for _, seq, _ in self._order), default=-1) + 1

    def take(self, message: Message) -> None:
        """Note a watermark, or buffer an event not seen before."""
        if isinstance(message, Mark):
            self._note(message)
        elif message.digest not in self._buffer and not self._checkpoint.seen(message.digest):
            seq = self._next_seq
            self._next_seq += 1
            self._buffer[message.digest] = (message, seq)
            heapq.heappush(self._order, (message.time, seq, message.digest))
            self._entries.put("buffer", message.digest, _fields(message, seq))

    def release(self) -> list[TicketChange]:
        """Process the buffered events every source has passed, in time order, then move
        the engine's time to the sources' low watermark."""
        low = self.low_watermark() - self._lateness
        changes: list[TicketChange] = []
        for chunk in self._ready(low):
            records = [RawRecord(m.raw, m.origin, m.rules, m.home) for m in chunk]
            changes.extend(self.pipeline.process(records))
            for message in chunk:
                del self._buffer[message.digest]
                self._entries.delete("buffer", message.digest)
        if low > self.pipeline.engine.watermark:
            changes.extend(self.pipeline.advance(low))
        return changes

    def low_watermark(self) -> float:
        """Event time every source has passed: the lowest watermark of the sources that are
        not idle (the highest of all when every one is idle); -inf until all have reported."""
        if not self._expected <= self._marks.keys():
            return float("-inf")
        marks = [self._marks[name] for name in self._expected]
        busy = [_time(mark) for mark in marks if not mark.idle]
        if busy:
            return min(busy)
        return max((_time(mark) for mark in marks), default=float("-inf"))

    @property
    def buffered(self) -> int:
        """Events waiting for the sources' watermark."""
        return len(self._buffer)

    def _note(self, mark: Mark) -> None:
        known = self._marks.get(mark.source)
        if known is not None and _time(known) > _time(mark):
            mark = Mark(mark.source, known.watermark, mark.idle)  # time never goes back
        self._marks[mark.source] = mark
        self._entries.put("mark", mark.source, [mark.watermark, mark.idle])

    def _ready(self, low: float) -> Iterator[list[Routed]]:
        chunk: list[Routed] = []
        while self._order and self._order[0][0] <= low:
            _, _, digest = heapq.heappop(self._order)
            chunk.append(self._buffer[digest][0])
            if len(chunk) >= self._batch_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _time(mark: Mark) -> float:
    return float("-inf") if mark.watermark is None else mark.watermark


def _fields(message: Routed, seq: int) -> list[Any]:
    rules = sorted(message.rules)
    return [message.raw.decode(), message.time, rules, message.home, message.origin, seq]


def _routed(digest: str, fields: list[Any]) -> tuple[Routed, int]:
    raw, at, rules, home, origin, seq = fields
    return Routed(str(raw).encode(), digest, float(at), frozenset(rules), bool(home), origin), seq
