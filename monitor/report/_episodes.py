"""Tickets as episodes: each stretch from opening (or reopening) to resolution.

A ticket's history is the record read here: when it opened, escalated ("P2 → P1"), breached
an SLA, was acknowledged, resolved and reopened, all in event time. A reopen starts a new
episode at the rule's severity, with new SLA due times. An episode is acknowledged by its
first "acknowledged" change, or else by a person resolving it (as ``Ticket.acknowledged_at``
is set); the engine resolving a ticket does not acknowledge it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .._tickets import Ticket

# The details the engine writes for SLA breaches (monitor._tickets).
_ACK_BREACH, _RESOLVE_BREACH = "not acknowledged in time", "not resolved in time"
ENGINE = "engine"  # who the engine's changes are by


@dataclass(frozen=True)
class Episode:
    """One open stretch of a ticket, in event time."""

    rule: str
    start: float
    reopened: bool
    severity: str  # at the start
    escalations: tuple[tuple[float, str, str], ...] = ()  # (at, from, to)
    end: float | None = None  # resolved at
    acknowledged: float | None = None  # by a person: acknowledged, or resolved unacknowledged
    ack_breach: float | None = None
    resolve_breach: float | None = None

    def severity_before(self, moment: float) -> str:
        """The severity just before ``moment`` (an escalation at ``moment`` is not counted)."""
        severity = self.severity
        for at, _, to in self.escalations:
            if at < moment:
                severity = to
        return severity

    def acknowledged_in_time(self) -> bool:
        """Acknowledged before its acknowledge SLA breach (recorded at the due time), if any."""
        return self.acknowledged is not None and (
            self.ack_breach is None or self.acknowledged < self.ack_breach
        )

    def open_at(self, moment: float) -> bool:
        """Whether the episode had started before ``moment`` and was not resolved by then."""
        return self.start < moment and (self.end is None or self.end >= moment)


def episodes(tickets: Iterable[Ticket]) -> list[Episode]:
    """Every episode of every ticket."""
    return [episode for ticket in tickets for episode in _of(ticket)]


def _of(ticket: Ticket) -> list[Episode]:
    found: list[Episode] = []
    for change in ticket.history:
        if change.action in ("opened", "reopened"):
            found.append(Episode(ticket.rule, change.at, change.action == "reopened", ""))
        elif not found:
            continue
        elif change.action == "escalated":
            before, *_, after = change.detail.split()
            step = (change.at, before, after)
            found[-1] = replace(found[-1], escalations=(*found[-1].escalations, step))
        elif change.action == "acknowledged" and found[-1].acknowledged is None:
            found[-1] = replace(found[-1], acknowledged=change.at)
        elif change.action == "resolved":
            by_person = change.by != ENGINE and found[-1].acknowledged is None
            acknowledged = change.at if by_person else found[-1].acknowledged
            found[-1] = replace(found[-1], end=change.at, acknowledged=acknowledged)
        elif change.action == "sla-breached" and change.detail == _ACK_BREACH:
            found[-1] = replace(found[-1], ack_breach=change.at)
        elif change.action == "sla-breached" and change.detail == _RESOLVE_BREACH:
            found[-1] = replace(found[-1], resolve_breach=change.at)
    # An episode starts at the severity its first escalation left. Without escalations, the
    # last one is at the ticket's severity and earlier ones at the rule's (the first "from").
    steps = [step for episode in found for step in episode.escalations]
    base = steps[0][1] if steps else ticket.severity
    for n, episode in enumerate(found):
        if episode.escalations:
            severity = episode.escalations[0][1]
        else:
            severity = ticket.severity if n == len(found) - 1 else base
        found[n] = replace(episode, severity=severity)
    return found
