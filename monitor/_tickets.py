"""Tickets: what one is, and how each engine action changes it (pure; no storage here).

A ticket's identity is its rule and dedup key, so the same finding always lands on the
same ticket; an action already applied to a ticket (same ``action_id``) changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from rules import SEVERITIES

from ._actions import Action, Escalation, Occurrence, Resolution, SlaCheck, SlaWarning
from ._errors import StoreError
from ._severity import SeverityPolicy, SlaKind

Status = Literal["open", "acknowledged", "resolved", "reopened"]
STATUSES: tuple[Status, ...] = ("open", "acknowledged", "resolved", "reopened")
WAITING_FOR_ACK = ("open", "reopened")
_BREACHES: dict[SlaKind, str] = {  # monitor.report reads these details
    "acknowledge": "not acknowledged in time",
    "resolve": "not resolved in time",
}


def ticket_id(rule: str, key: str) -> str:
    """The ticket id for a rule and dedup key: stable, short, readable prefix."""
    digest = hashlib.blake2b(f"{rule}\x00{key}".encode(), digest_size=10).hexdigest()
    return f"T-{digest}"


@dataclass(frozen=True)
class Change:
    """One entry of a ticket's history: what changed, when (event time), by whom."""

    at: float
    by: str
    action: str
    detail: str = ""


@dataclass(frozen=True)
class Ticket:
    """A graded exception ticket.

    ``parent`` is the ticket of the aggregate rule that explains this one (its rule's
    ``explained_by``), whether or not that ticket exists yet; ``suppressed_by`` is that parent
    while both are unresolved: the ticket keeps its clocks but is not notified.
    """

    id: str
    rule: str
    dedup_key: str
    severity: str
    team: str
    title: str
    status: Status
    occurrences: int
    first_seen: float
    last_seen: float
    acknowledge_due: float
    resolve_due: float
    rule_set_version: str
    source: str
    breached_acknowledge: bool = False
    breached_resolve: bool = False
    warned_acknowledge: bool = False
    warned_resolve: bool = False
    resolved_at: float | None = None
    acknowledged_at: float | None = None
    assignee: str | None = None
    root_cause: str | None = None
    action_taken: str | None = None
    parent: str | None = None
    suppressed_by: str | None = None
    history: tuple[Change, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping; times as ISO 8601 UTC."""
        return {
            "id": self.id,
            "rule": self.rule,
            "dedup_key": self.dedup_key,
            "severity": self.severity,
            "team": self.team,
            "title": self.title,
            "status": self.status,
            "occurrences": self.occurrences,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "acknowledge_due": iso(self.acknowledge_due),
            "resolve_due": iso(self.resolve_due),
            "breached": {
                "acknowledge": self.breached_acknowledge,
                "resolve": self.breached_resolve,
            },
            "warned": {"acknowledge": self.warned_acknowledge, "resolve": self.warned_resolve},
            "resolved_at": iso(self.resolved_at) if self.resolved_at is not None else None,
            "acknowledged_at": (
                iso(self.acknowledged_at) if self.acknowledged_at is not None else None
            ),
            "assignee": self.assignee,
            "root_cause": self.root_cause,
            "action_taken": self.action_taken,
            "parent": self.parent,
            "suppressed_by": self.suppressed_by,
            "rule_set_version": self.rule_set_version,
            "source": self.source,
            "history": [
                {"at": iso(c.at), "by": c.by, "action": c.action, "detail": c.detail}
                for c in self.history
            ],
        }

    def to_record(self) -> bytes:
        """The stored form: compact JSON with times as epoch seconds."""
        return orjson.dumps(self)

    @classmethod
    def from_record(cls, raw: bytes) -> Ticket:
        """The inverse of ``to_record``."""
        document = orjson.loads(raw)
        document["history"] = tuple(Change(**change) for change in document["history"])
        return cls(**document)


def iso(timestamp: float) -> str:
    """Epoch seconds as ISO 8601 UTC text."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def apply(ticket: Ticket | None, action: Action, policy: SeverityPolicy) -> Ticket | None:
    """The ticket after ``action``; ``None`` or the same ticket when nothing changes."""
    if isinstance(action, Occurrence):
        return _occur(ticket, action, policy)
    if ticket is None:
        return None
    if (ticket.rule, ticket.dedup_key) != (action.rule, action.key):
        raise StoreError(f"ticket id {ticket.id} clashes: {ticket.rule} {ticket.dedup_key!r}")
    if isinstance(action, Resolution):
        if ticket.status == "resolved":
            return ticket
        at = max(action.at, ticket.last_seen)  # late evidence cannot close it before it was seen
        change = Change(at, "engine", "resolved", action.reason)
        return with_change(ticket, change, status="resolved", resolved_at=at, suppressed_by=None)
    if isinstance(action, Escalation):
        if ticket.status == "resolved" or _rank(action.to) >= _rank(ticket.severity):
            return ticket
        return _escalate(ticket, action.at, action.to)
    if isinstance(action, SlaWarning):
        return _warn(ticket, action)
    return _check_sla(ticket, action, policy)


def _occur(ticket: Ticket | None, action: Occurrence, policy: SeverityPolicy) -> Ticket:
    if ticket is not None and (ticket.rule, ticket.dedup_key) != (action.rule, action.key):
        raise StoreError(f"ticket id {ticket.id} clashes: {ticket.rule} {ticket.dedup_key!r}")
    parent = ticket_id(*action.parent) if action.parent else None
    if ticket is None:
        due = policy.deadlines(action.severity, action.team, action.at)
        return Ticket(
            id=ticket_id(action.rule, action.key),
            rule=action.rule,
            dedup_key=action.key,
            severity=action.severity,
            team=action.team,
            title=action.title,
            status="open",
            occurrences=1,
            first_seen=action.at,
            last_seen=action.at,
            acknowledge_due=due["acknowledge"].due,
            resolve_due=due["resolve"].due,
            rule_set_version=action.rule_set_version,
            source=action.source,
            parent=parent,
            history=(Change(action.at, "engine", "opened", action.title),),
        )
    last_seen = max(ticket.last_seen, action.at)
    if ticket.status != "resolved":
        return replace(
            ticket, occurrences=ticket.occurrences + 1, last_seen=last_seen, parent=parent
        )
    change = Change(action.at, "engine", "reopened", action.title)
    due = policy.deadlines(action.severity, action.team, action.at)
    return with_change(
        ticket,
        change,
        status="reopened",
        occurrences=ticket.occurrences + 1,
        last_seen=last_seen,
        severity=action.severity,
        title=action.title,
        rule_set_version=action.rule_set_version,
        acknowledge_due=due["acknowledge"].due,
        resolve_due=due["resolve"].due,
        breached_acknowledge=False,
        breached_resolve=False,
        warned_acknowledge=False,
        warned_resolve=False,
        resolved_at=None,
        acknowledged_at=None,
        parent=parent,
    )


def _escalate(ticket: Ticket, at: float, to: str) -> Ticket:
    change = Change(at, "engine", "escalated", f"{ticket.severity} → {to}")
    return with_change(ticket, change, severity=to)


def _clock(ticket: Ticket, kind: SlaKind) -> tuple[float, bool, bool]:
    """The ``kind`` clock: its due time, whether it warned, whether it breached."""
    if kind == "acknowledge":
        return ticket.acknowledge_due, ticket.warned_acknowledge, ticket.breached_acknowledge
    return ticket.resolve_due, ticket.warned_resolve, ticket.breached_resolve


def _waiting(ticket: Ticket, kind: SlaKind) -> bool:
    """Whether the ticket still waits for what the ``kind`` clock measures."""
    if kind == "acknowledge":
        return ticket.status in WAITING_FOR_ACK
    return ticket.status != "resolved"


def _warn(ticket: Ticket, action: SlaWarning) -> Ticket:
    """Warn once per clock while the ticket still waits and its due time is ahead."""
    due, warned, _ = _clock(ticket, action.kind)
    if warned or not _waiting(ticket, action.kind) or action.at >= due:
        return ticket
    change = Change(action.at, "engine", "sla-warning", f"{action.kind} due {iso(due)}")
    return with_change(ticket, change, **{f"warned_{action.kind}": True})


def _check_sla(ticket: Ticket, action: SlaCheck, policy: SeverityPolicy) -> Ticket:
    """Flag a breach once per clock; the policy may raise the severity one step with it."""
    due, _, breached = _clock(ticket, action.kind)
    if breached or not _waiting(ticket, action.kind) or action.at < due:
        return ticket
    rank = _rank(ticket.severity)
    if policy.sla(ticket.severity).raise_on_breach and rank > 0:
        ticket = _escalate(ticket, action.at, SEVERITIES[rank - 1])
    change = Change(action.at, "engine", "sla-breached", _BREACHES[action.kind])
    return with_change(ticket, change, **{f"breached_{action.kind}": True})


def with_change(ticket: Ticket, change: Change, **fields: Any) -> Ticket:
    """The ticket with ``fields`` changed and ``change`` appended to its history."""
    return replace(ticket, history=(*ticket.history, change), **fields)


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)
