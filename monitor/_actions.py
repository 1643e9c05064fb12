"""What the engine decides: actions for the ticket store, as plain frozen records.

Every action carries an ``action_id`` that is the same each time the same input is seen
(an event id, or a timer and its due time), which is what makes applying it idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ._severity import SlaKind


@dataclass(frozen=True)
class Occurrence:
    """A rule matched (or an absence timer ran out) for one dedup key; ``parent`` is the
    (rule, dedup key) of the aggregate ticket that explains it (its rule's ``explained_by``)."""

    action_id: str
    rule: str
    key: str
    at: float
    severity: str
    team: str
    title: str
    source: str
    rule_set_version: str
    parent: tuple[str, str] | None = None


@dataclass(frozen=True)
class Resolution:
    """Evidence arrived that the condition is over (the resolve condition, the awaited event)."""

    action_id: str
    rule: str
    key: str
    at: float
    reason: str


@dataclass(frozen=True)
class Escalation:
    """An unresolved ticket reached an escalation step of its rule."""

    action_id: str
    rule: str
    key: str
    at: float
    to: str


@dataclass(frozen=True)
class SlaCheck:
    """An SLA due time passed: the store flags a breach if the ticket is still waiting."""

    action_id: str
    rule: str
    key: str
    at: float
    kind: SlaKind


@dataclass(frozen=True)
class SlaWarning:
    """An SLA clock reached its warning share: the store warns if the ticket is still waiting."""

    action_id: str
    rule: str
    key: str
    at: float
    kind: SlaKind


Action: TypeAlias = Occurrence | Resolution | Escalation | SlaCheck | SlaWarning
