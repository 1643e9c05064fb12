"""A fault of the engine's on one event: the run goes on, that event is dead-lettered with
the error, and what the engine did with it before failing is undone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from monitor import (
    DEFAULT_POLICY,
    DeadLetter,
    Engine,
    MemoryState,
    MemoryTicketStore,
    Pipeline,
    RawRecord,
    Timer,
)
from rules import RuleBook, load_rules

from .helpers import at, event


class _HalfDoneEngine(Engine):
    """Fails on order ``POISON`` after it has processed it (its keyed state is changed)."""

    def process(self, event: Any, only: Any = None) -> Any:
        actions = super().process(event, only)
        if getattr(event.data, "order_id", None) == "POISON":
            raise ZeroDivisionError("division by zero")
        return actions


class _Checkpoint:
    def __init__(self) -> None:
        self.state = MemoryState()
        self.committed: list[str] = []

    def unseen(self, digests: Sequence[str]) -> list[bool]:
        return [digest not in self.committed for digest in digests]

    def commit(self, digests: Sequence[str]) -> None:
        self.committed.extend(digests)
        self.state.mark_persisted()


class _Letters:
    def __init__(self) -> None:
        self.written: list[DeadLetter] = []

    def write(self, letters: list[DeadLetter]) -> None:
        self.written.extend(letters)


def test_an_event_the_engine_fails_on_is_dead_lettered_and_undone() -> None:
    checkpoint, letters, tickets = _Checkpoint(), _Letters(), MemoryTicketStore(DEFAULT_POLICY)
    engine = _HalfDoneEngine(RuleBook(load_rules()), checkpoint.state, policy=DEFAULT_POLICY)
    pipeline = Pipeline(engine, tickets, checkpoint, letters)
    lines = [
        event("order.paid", hour, order_id=name) for hour, name in enumerate(["A", "POISON", "B"])
    ]
    lines.insert(1, {"not": "an event"})
    records = [RawRecord(orjson.dumps(line), f"f:{n}") for n, line in enumerate(lines, start=1)]
    pipeline.process(records)
    assert [(letter.reason, letter.origin) for letter in letters.written] == [
        ("invalid-envelope", "f:2"),  # written once, with the engine's failure
        ("engine-error", "f:3"),
    ]
    assert letters.written[1].detail == "ZeroDivisionError: division by zero"
    assert len(checkpoint.committed) == 2  # POISON is not marked seen: a fixed run takes it
    pipeline.advance(at(24 * 30))
    assert sorted(t.dedup_key for t in tickets.all()) == ["A", "B"]  # POISON's timer undone
    assert pipeline.stats.dead_letters == {"invalid-envelope": 1, "engine-error": 1}


def test_rollback_returns_the_state_to_its_savepoint() -> None:
    state = MemoryState({"kept": 1, "gone": 2}, [Timer("t1", 10.0, {})])
    state.watermark = 5.0
    state.savepoint()
    state.put("kept", 9)
    state.put("new", 3)
    state.delete("gone")
    state.cancel("t1")
    state.schedule(Timer("t2", 20.0, {}))
    state.watermark = 50.0
    state.rollback()
    assert (state.get("kept"), state.get("new"), state.get("gone")) == (1, None, 2)
    assert state.timer("t1") == Timer("t1", 10.0, {}) and state.timer("t2") is None
    assert state.watermark == 5.0
    assert [t.id for t in state.pop_due(100.0)] == ["t1"]
