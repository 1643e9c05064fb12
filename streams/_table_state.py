"""One keyed partition's engine state in a faust Table (changelogged in Kafka), so a worker
that takes the partition over, or restarts, recovers it.

Entries are named ``<partition>\\x1e<kind>\\x1f<name>``; a worker writes them while it handles
a message of that partition, so faust sends them to the same changelog partition.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

from monitor import MemoryState, Timer

Table = MutableMapping[str, Any]


class TableEntries:
    """The entries of one partition in the table, by kind."""

    def __init__(self, table: Table, partition: int) -> None:
        self._table = table
        self._prefix = f"{partition}\x1e"

    def key(self, kind: str, name: str = "") -> str:
        return f"{self._prefix}{kind}\x1f{name}"

    def of_kind(self, kind: str) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` of every entry of this kind."""
        start = self.key(kind)
        for key, value in list(self._table.items()):
            if key.startswith(start):
                yield key[len(start) :], value

    def get(self, kind: str, name: str = "") -> Any:
        return self._table.get(self.key(kind, name))

    def put(self, kind: str, name: str, value: Any) -> None:
        self._table[self.key(kind, name)] = value

    def delete(self, kind: str, name: str) -> None:
        self._table.pop(self.key(kind, name), None)


class TableCheckpoint:
    """The engine's keyed state and timers, the watermark and the events seen, for one
    partition: loaded from the table, written back after each stored batch."""

    def __init__(self, entries: TableEntries) -> None:
        self._entries = entries
        values = dict(entries.of_kind("value"))
        timers = [Timer(name, due, payload) for name, (due, payload) in entries.of_kind("timer")]
        self.state = MemoryState(values, timers)
        watermark = entries.get("watermark")
        if watermark is not None:
            self.state.watermark = watermark
        self._seen = {digest for _, batch in entries.of_kind("seen") for digest in batch}

    def unseen(self, digests: Sequence[str]) -> list[bool]:
        return [digest not in self._seen for digest in digests]

    def seen(self, digest: str) -> bool:
        """Whether this event was processed here before."""
        return digest in self._seen

    def commit(self, digests: Sequence[str]) -> None:
        """Write the batch's changes: timers, then values, the watermark, the events seen.

        The changelog gets them in this order and a crash keeps some first part of them:
        replayed from any such part, the batch gives the same state. Values before their
        timers would not: a key whose state is kept without its new timer (a ticket's
        escalation) is taken as handled, and the timer is never set again."""
        state, entries = self.state, self._entries
        for timer_id in state.dirty_timers:
            timer = state.timer(timer_id)
            if timer is None:
                entries.delete("timer", timer_id)
            else:
                entries.put("timer", timer_id, [timer.due, timer.payload])
        for key in state.dirty:
            value = state.get(key)
            if value is None:
                entries.delete("value", key)
            else:
                entries.put("value", key, value)
        if state.watermark != float("-inf"):
            entries.put("watermark", "", state.watermark)
        if digests:  # one entry per batch: the table's changelog gets one message, not many
            entries.put("seen", digests[0], list(digests))
            self._seen.update(digests)
        state.mark_persisted()
