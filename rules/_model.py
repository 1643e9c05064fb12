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
        parts = []
        for key_field in self.key:
            value = key_field.get(fact)
            if value is None:
                return None
            parts.append(_canonical(value).replace("\\", "\\\\").replace("|", "\\|"))
        return "|".join(parts)

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

    @cached_property
    def _index(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}
