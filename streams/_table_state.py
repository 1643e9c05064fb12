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
    partition: loaded from the table, written back after each stored batch.

    A batch's changes go first as one entry (``batch``), then entry by entry. The changelog
    keeps its messages in order and a crash keeps some first part of them, so whoever loads
    the table finds either none of the batch or its whole record, which it writes out again
    (a batch part-written, such as its state without the events it saw, is never loaded)."""

    def __init__(self, entries: TableEntries) -> None:
        self._entries = entries
        last = entries.get("batch")
        if last is not None:
            self._write_out(last)  # a crash may have cut it short
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
        """Write the batch's changes: all of them as one entry, then each one."""
        state = self.state
        timers = {
            timer_id: None if timer is None else [timer.due, timer.payload]
            for timer_id in state.dirty_timers
            for timer in [state.timer(timer_id)]
        }
        changes = {
            "timers": timers,
            "values": {key: state.get(key) for key in state.dirty},
            "watermark": state.watermark if state.watermark != float("-inf") else None,
            "seen": list(digests),
        }
        self._entries.put("batch", "", changes)
        self._write_out(changes)
        self._seen.update(digests)
        state.mark_persisted()

    def _write_out(self, changes: dict[str, Any]) -> None:
        entries = self._entries
        for kind in ("timer", "value"):
            for name, value in changes[f"{kind}s"].items():
                if value is None:
                    entries.delete(kind, name)
                else:
                    entries.put(kind, name, value)
        if changes["watermark"] is not None:
            entries.put("watermark", "", changes["watermark"])
        if changes["seen"]:  # one entry per batch: the changelog gets one message, not many
            entries.put("seen", changes["seen"][0], changes["seen"])
