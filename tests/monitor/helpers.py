"""Small builders shared by the monitor tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor import DEFAULT_POLICY, Engine, MemoryState, MemoryTicketStore, validate_event
from rules import RuleBook, load_rules

T0 = datetime(2017, 5, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def event(kind: str, hours: float, **data: Any) -> dict[str, Any]:
    """A CloudEvents mapping ``hours`` after T0."""
    return {
        "specversion": "1.0",
        "id": f"e{next(_ids)}",
        "source": "test",
        "type": kind,
        "time": (T0 + timedelta(hours=hours)).isoformat(),
        "data": data,
    }


def at(hours: float) -> float:
    """Epoch seconds ``hours`` after T0."""
    return (T0 + timedelta(hours=hours)).timestamp()


class Harness:
    """The shipped rules on the real matcher, with in-memory state and tickets."""

    def __init__(self) -> None:
        rules = load_rules()
        self.engine = Engine(RuleBook(rules), MemoryState(), policy=DEFAULT_POLICY)
        self.tickets = MemoryTicketStore(DEFAULT_POLICY)

    def feed(self, *documents: dict[str, Any]) -> None:
        for document in documents:
            self.tickets.apply(self.engine.process(validate_event(document)))

    def advance(self, hours: float) -> None:
        self.tickets.apply(self.engine.advance(at(hours)))

    def by_rule(self, rule: str) -> list[Any]:
        return [t for t in self.tickets.all() if t.rule == rule]
