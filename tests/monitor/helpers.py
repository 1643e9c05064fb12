"""Small builders shared by the monitor tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor import (
    DEFAULT_POLICY,
    Engine,
    MemoryState,
    MemoryTicketStore,
    SeverityPolicy,
    TicketChange,
    TicketStore,
    validate_event,
)
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

    def __init__(
        self, policy: SeverityPolicy = DEFAULT_POLICY, tickets: TicketStore | None = None
    ) -> None:
        rules = load_rules()
        self.engine = Engine(RuleBook(rules), MemoryState(), policy=policy)
        self.tickets = tickets or MemoryTicketStore(policy)

    def feed(self, *documents: dict[str, Any]) -> list[TicketChange]:
        changes = []
        for document in documents:
            changes += self.tickets.apply(self.engine.process(validate_event(document)))
        return changes

    def advance(self, hours: float) -> list[TicketChange]:
        """Move event time to ``hours`` after T0; the ticket changes that caused."""
        return self.tickets.apply(self.engine.advance(at(hours)))

    def by_rule(self, rule: str) -> list[Any]:
        return [t for t in self.tickets.all() if t.rule == rule]
