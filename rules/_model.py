"""Typed rule objects: what a rule file means once it has been read and checked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jinja2 import Template, TemplateError

from ._evaluate import holds
from ._expr import Condition, Field

SEVERITIES = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class Escalation:
    """Raise the ticket to ``to`` when it is still unresolved ``after`` seconds."""

    after: float
    to: str


@dataclass(frozen=True)
class Raise:
    """Raise an occurrence to severity ``to`` when ``when`` holds for its event (its impact)."""

    when: Condition
    to: str


@dataclass(frozen=True)
class Absence:
    """Fire when no event of the ``of`` types arrives for the key within ``within`` seconds."""

    of: tuple[str, ...]
    within: float


@dataclass(frozen=True)
class Window:
    """Fire when the matching events for one key within ``within`` seconds reach
    ``at_least``: counted, or summed over the field ``total``."""

    within: float
    at_least: float
    total: Field | None = None


@dataclass(frozen=True)
class ExplainedBy:
    """The aggregate rule whose ticket explains this rule's tickets (their parent): ``key``
    fields, read from this rule's event, give the parent's dedup key. They are among the
    rule's own key fields (at ``positions``), so a ticket's parent follows from its key."""

    rule: str
    key: tuple[Field, ...]
    positions: tuple[int, ...]
    line: int = 0


@dataclass(frozen=True)
class Example:
    """A rule's example: events in, the tickets expected out (a test of the rule)."""

    name: str
    events: tuple[Mapping[str, Any], ...]
    expect: tuple[Mapping[str, Any], ...]
    until: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Rule:
    """One risk rule, checked and ready to compile."""

    id: str
    description: str
    on: tuple[str, ...]
    when: Condition
    key: tuple[Field, ...]
    severity: str
    team: str
    title: Template = field(compare=False)
    escalate: tuple[Escalation, ...] = ()
    raises: tuple[Raise, ...] = ()
    resolve_when: Condition | None = None
    absent: Absence | None = None
    window: Window | None = None
    explained_by: ExplainedBy | None = None
    examples: tuple[Example, ...] = ()
    file: str = ""
    line: int = 0

    @property
    def listens_to(self) -> frozenset[str]:
        """The event types this rule reads: its ``on`` types and the awaited ones."""
        awaited = self.absent.of if self.absent is not None else ()
        return frozenset((*self.on, *awaited))

    def severity_for(self, impact: Mapping[str, Any]) -> str:
        """The severity of an occurrence: the highest ``to`` of the raise clauses that hold for
        ``impact`` (the event's fact, plus ``window`` figures in a window rule), else the rule's
        own severity. Clauses are independent: their order does not matter."""
        raised = (clause.to for clause in self.raises if holds(clause.when, impact))
        return min(raised, key=SEVERITIES.index, default=self.severity)

    def key_of(self, fact: Mapping[str, Any]) -> str | None:
        """The dedup key of an event for this rule; ``None`` if a key field is missing.

        Parts are joined with ``|``; a ``|`` or ``\\`` inside a part is escaped with ``\\``, so
        different parts never make the same key."""
        return _joined([key_field.get(fact) for key_field in self.key])

    def parent_of(self, fact: Mapping[str, Any]) -> tuple[str, str] | None:
        """The (rule, dedup key) of the parent ticket that explains this event's ticket;
        ``None`` without ``explained_by`` or when a key field is missing."""
        if self.explained_by is None:
            return None
        key = _joined([field.get(fact) for field in self.explained_by.key])
        return None if key is None else (self.explained_by.rule, key)

    def render_title(self, event: Mapping[str, Any]) -> str:
        """The ticket title for an event (the rule's Jinja2 template).

        A template that fails on this event (a division by zero, a sandbox refusal) must not
        stop the stream: the title then says so, and names the rule and the key.
        """
        try:
            return self.title.render(**event).strip()
        except (TemplateError, ArithmeticError, TypeError, ValueError) as error:
            key = self.key_of(event)
            return f"{self.id} {key}: (title template failed: {type(error).__name__}: {error})"


def _joined(values: list[Any]) -> str | None:
    if any(value is None for value in values):
        return None
    return "|".join(_canonical(v).replace("\\", "\\\\").replace("|", "\\|") for v in values)


def _canonical(value: Any) -> str:
    """A stable text for a key part: lists compare as multisets, mappings by content."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return json.dumps(sorted(_canonical(item) for item in value), separators=(",", ":"))
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)


@dataclass(frozen=True)
class RuleSet:
    """A loaded set of rules, identified by ``version`` (a digest of the files' text)."""

    rules: tuple[Rule, ...]
    version: str
    files: tuple[str, ...] = ()

    def by_id(self, rule_id: str) -> Rule:
        """The rule with this id; ``KeyError`` if there is none."""
        return self._index[rule_id]

    def root_of(self, rule: Rule, fact: Mapping[str, Any]) -> tuple[str, str] | None:
        """The (rule, dedup key) of the furthest parent of this event's ``rule`` ticket, or
        its own when it has none; ``None`` when a key field is missing. A distributed runner
        processes a ticket where its root's is, so parents and children meet in order."""
        values = [key_field.get(fact) for key_field in rule.key]
        while rule.explained_by is not None:
            values = [values[position] for position in rule.explained_by.positions]
            rule = self.by_id(rule.explained_by.rule)
        key = _joined(values)
        return None if key is None else (rule.id, key)

    @cached_property
    def _index(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}
