"""Rule examples as tests: each example's events run through the real engine and matcher,
with in-memory state and tickets, and the tickets are compared with what it expects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules import Example, Rule, RuleBook, RuleSet

from ._engine import Engine
from ._errors import EventError
from ._events import validate_event
from ._severity import SeverityPolicy
from ._state import MemoryState
from ._ticket_store import MemoryTicketStore
from ._tickets import ticket_id


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of one example: ``problems`` is empty when it passed."""

    rule: Rule
    example: Example
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def run_examples(rules: RuleSet, policy: SeverityPolicy) -> Iterator[ExampleResult]:
    """Run every example of every rule, each in a fresh engine over the whole rule set."""
    book = RuleBook(rules)
    try:
        for rule in rules.rules:
            for example in rule.examples:
                yield ExampleResult(rule, example, tuple(_run(book, rule, example, policy)))
    finally:
        book.close()


def _run(book: RuleBook, rule: Rule, example: Example, policy: SeverityPolicy) -> Iterator[str]:
    engine = Engine(book, MemoryState(), policy=policy)
    tickets = MemoryTicketStore(policy)
    for index, document in enumerate(example.events):
        try:
            event = validate_event(_with_defaults(document, index))
        except EventError as error:
            yield f"event {index + 1} is not valid: {error}"
            return
        tickets.apply(engine.process(event))
    if example.until:
        tickets.apply(engine.advance(datetime.fromisoformat(example.until).timestamp()))
    named = {rule.id} | {str(expected.get("rule", rule.id)) for expected in example.expect}
    actual = [t.to_json() for t in tickets.all() if t.rule in named]
    yield from _compare(list(example.expect), actual, rule.id)


def _with_defaults(document: Mapping[str, Any], index: int) -> dict[str, Any]:
    return {"id": f"example-{index + 1}", "source": "example", **document}


def _compare(
    expected: list[Mapping[str, Any]], actual: list[dict[str, Any]], rule_id: str
) -> Iterator[str]:
    unmatched = list(actual)
    for wanted in expected:
        wanted = {"rule": rule_id, **wanted}
        fields = {("dedup_key" if k == "key" else k): _ticket_ref(v) for k, v in wanted.items()}
        found = next((t for t in unmatched if all(t.get(k) == v for k, v in fields.items())), None)
        if found is None:
            got = [_brief(t) for t in unmatched] or "none"
            yield f"expected a ticket {dict(wanted)}, got {got}"
        else:
            unmatched.remove(found)
    for ticket in unmatched:
        yield f"unexpected ticket {_brief(ticket)}"


def _ticket_ref(value: Any) -> Any:
    """An expected ticket named by its rule and key (``suppressed_by: {rule: r, key: k}``)
    as its id; other values as they are."""
    if isinstance(value, Mapping) and set(value) == {"rule", "key"}:
        return ticket_id(str(value["rule"]), str(value["key"]))
    return value


def _brief(ticket: Mapping[str, Any]) -> dict[str, Any]:
    names = ("rule", "dedup_key", "severity", "status", "occurrences", "suppressed_by")
    return {name: ticket[name] for name in names}
