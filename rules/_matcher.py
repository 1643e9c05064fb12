"""The one module that touches durable-rules: rule conditions compiled onto its engine.

How the engine's measured limits (DESIGN.md) are designed around:

- ``post()`` gives an event to the first rule that fires only: every event is instead
  asserted as a fact and retracted at once, which fires every rule it satisfies.
- More than 64 rules true for one event fail with error 303: rules are split into
  rulesets of at most ``SHARD_SIZE`` compiled conditions, and an event visits only the
  rulesets that read its type.
- 1024 sessions per ruleset: everything runs in the one default session.
- Content-hashed ids drop identical facts: each fact carries its own sequence number.
- Facts held for correlations leak memory: conditions read one fact, which is retracted.
- Wall-clock timers: none are used; event-time timers are the runner's (keyed state).
- The batch dispatch thread races: the C engine is driven directly, synchronously,
  without ``durable.engine.Host`` and its background threads.
- The engine also asserts a session-state fact that matches negative tests: every
  condition starts with a test on the event type, which that fact lacks.
- Its JSON reader refuses a number in exponent form without a decimal point (``1e16``,
  ``1e-07``: error 204): such numbers are written ``1.0e16``.
- It divides integers as C does (``7 / 2`` is 3; by 0 it kills the process with SIGFPE): a
  division is made in floating point, and a comparison dividing by a field that is 0 is false.
  It computes no arithmetic on constants alone (it never matches): the parser computes it.
- Its regex dialect is small (no ``\\d``, no negated classes, no "does not match"):
  ``matches()`` runs Python's ``re`` before the fact is asserted and the condition tests
  the outcome, so rule authors write ordinary regular expressions.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import durable_rules_engine as _engine
import orjson

from ._errors import RuleError
from ._evaluate import regex_subject
from ._expr import (
    FALSE,
    And,
    Arith,
    Compare,
    Condition,
    Const,
    Exists,
    Field,
    Matches,
    Or,
    fields_of,
)
from ._model import Rule

SHARD_SIZE = 60
MAX_ALTERNATIVES = 256  # the engine hangs compiling an `or` of ~520 alternatives or more
_NOT_HANDLED = 1
_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}
_names = itertools.count()
_BARE_EXPONENT_HINT = re.compile(r"\d[eE]")
_STRING_OR_BARE_EXPONENT = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\d.])(-?\d+)([eE][-+]?\d+)')


class Trigger(Enum):
    """What a compiled condition means for its rule."""

    FIRE = "fire"  # the rule's condition holds (or, for absence rules, arms the timer)
    RESOLVE = "resolve"  # the rule's resolve condition holds
    ARRIVE = "arrive"  # an awaited event of an absence rule arrived


@dataclass(frozen=True)
class Hit:
    """One compiled condition that an event satisfied."""

    rule: Rule
    trigger: Trigger


@dataclass(frozen=True)
class _Compiled:
    name: str
    hit: Hit
    types: tuple[str, ...]
    definition: dict[str, Any]
    labels: frozenset[str]
    paths: frozenset[str]


class _Reads:
    """What compiled conditions read: the fields to hand the engine, and the regular
    expressions of ``matches()``, evaluated in Python before assertion."""

    def __init__(self) -> None:
        self.by_label: dict[str, tuple[Field, re.Pattern[str]]] = {}
        self.labels: set[str] = set()
        self.paths: set[str] = set()

    def start(self) -> None:
        """Begin noting what the next compiled condition reads."""
        self.labels, self.paths = set(), set()

    def field(self, path: str) -> str:
        """The engine's name for a field of the event; noted in ``paths``."""
        self.paths.add(path)
        return f"e.{path}"

    def label(self, path: str, pattern: str) -> str:
        """The fact field that will carry this match's outcome; noted in ``labels``."""
        label = next(
            (
                label
                for label, (field, compiled) in self.by_label.items()
                if field.path == path and compiled.pattern == pattern
            ),
            f"p{len(self.by_label)}",
        )
        self.by_label.setdefault(label, (Field(path), re.compile(pattern)))
        self.labels.add(label)
        return label


class Matcher:
    """Finds every compiled condition an event satisfies.

    Not thread-safe: one matcher per runner thread.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._reads = _Reads()
        compiled = [item for rule in rules for item in _compile_rule(rule, self._reads)]
        self._hits = {item.name: item.hit for item in compiled}
        self._shards_by_type: dict[str, list[int]] = {}
        self._handles: list[int] = []
        self._patterns_by_type: dict[str, list[str]] = {}
        self._fields_by_type: dict[str, list[Field]] = {}
        for start in range(0, len(compiled), SHARD_SIZE):
            self._add_shard(compiled[start : start + SHARD_SIZE])
        self._sequence = itertools.count()

    def _add_shard(self, items: list[_Compiled]) -> None:
        definition = {item.name: item.definition for item in items}
        name = f"riskmon-{next(_names)}"
        try:
            handle = _engine.create_ruleset(name, _engine_json(definition))
        except Exception as error:  # the C engine raises a bare Exception with a code
            raise _culprit(items, error) from None
        self._handles.append(handle)
        shard = len(self._handles) - 1
        for event_type in {t for item in items for t in item.types}:
            self._shards_by_type.setdefault(event_type, []).append(shard)
        for item in items:
            for event_type in item.types:
                labels = self._patterns_by_type.setdefault(event_type, [])
                labels.extend(label for label in sorted(item.labels) if label not in labels)
                fields = self._fields_by_type.setdefault(event_type, [])
                known = {field.path for field in fields}
                fields.extend(Field(path) for path in sorted(item.paths - known))

    def match(self, fact: Mapping[str, Any]) -> list[Hit]:
        """Every compiled condition the event mapping satisfies, in rule order."""
        event_type = fact.get("type")
        if not isinstance(event_type, str) or event_type not in self._shards_by_type:
            return []
        shards = self._shards_by_type[event_type]
        flags = {
            label: _full_match(self._reads.by_label[label], fact)
            for label in self._patterns_by_type.get(event_type, ())
        }
        read = _project(event_type, fact, self._fields_by_type.get(event_type, ()))
        payload = _engine_json({"id": next(self._sequence), "e": read, "re": flags})
        names: list[str] = []
        for shard in shards:
            names.extend(_fire(self._handles[shard], payload))
        return [self._hits[name] for name in sorted(set(names), key=_name_order)]

    def held_facts(self) -> int:
        """How many facts the engine still holds (always 0 between events: a health check)."""
        return sum(len(orjson.loads(_engine.get_facts(handle, None))) for handle in self._handles)

    def close(self) -> None:
        """Free the engine's rulesets."""
        for handle in self._handles:
            _engine.delete_ruleset(handle)
        self._handles.clear()


def _culprit(items: list[_Compiled], error: Exception) -> RuleError:
    """The engine refused a ruleset: find the rule it refuses alone, to name its place."""
    for item in items:
        try:
            alone = _engine.create_ruleset(
                f"riskmon-check-{next(_names)}", _engine_json({item.name: item.definition})
            )
        except Exception:  # the C engine raises a bare Exception with a code
            rule = item.hit.rule
            message = f"the rule engine cannot compile this condition (too deeply nested?): {error}"
            return RuleError(message, file=rule.file, line=rule.line)
        _engine.delete_ruleset(alone)
    return RuleError(f"the rule engine refused the compiled rules: {error}")


def _fire(handle: int, payload: str) -> list[str]:
    result = _engine.assert_fact(handle, payload)
    names: list[str] = []
    if result[0] != _NOT_HANDLED:
        state = result[1]
        action = _engine.start_action_for_state(handle, state)
        while action:
            message = action[1]  # {"<rule name>": {...the fact...}}: only the name is needed
            names.append(message[2 : message.index('"', 2)])
            following = _engine.complete_and_start_action(handle, state)
            action = (None, following) if following else None
    _engine.retract_fact(handle, payload)
    return names


def _project(event_type: str, fact: Mapping[str, Any], fields: Iterable[Field]) -> dict[str, Any]:
    """Only the fields the rules read: the engine parses less JSON per event."""
    read: dict[str, Any] = {"type": event_type}
    for field in fields:
        value = field.value_at(fact)
        if value is None:
            continue
        *parents, name = field.steps
        target: Any = read
        for step in parents:
            target = target.setdefault(step, {})
            if not isinstance(target, dict):
                break  # a list on the way: the rule engine cannot look inside lists
        else:
            target.setdefault(name, value)
    return read


def _full_match(entry: tuple[Field, re.Pattern[str]], fact: Mapping[str, Any]) -> bool:
    field, pattern = entry
    subject = regex_subject(field.value_at(fact))
    return subject is not None and pattern.fullmatch(subject) is not None


def _name_order(name: str) -> tuple[int, str]:
    return int(name.split("_")[1]), name


def _compile_rule(rule: Rule, reads: _Reads) -> list[_Compiled]:
    index = next(_names)
    parts = [(Trigger.FIRE, rule.on, rule.when)]
    if rule.resolve_when is not None:
        parts.append((Trigger.RESOLVE, rule.on, rule.resolve_when))
    if rule.absent is not None:
        parts.append((Trigger.ARRIVE, rule.absent.of, And(())))
    compiled = []
    for trigger, types, condition in parts:
        if condition == FALSE:
            continue
        reads.start()
        try:
            test = {"$and": [_type_test(types), *_conditions(condition, reads)]}
        except RuleError as error:
            raise error.located(rule.file, rule.line) from None
        name = f"r_{index}_{trigger.value}"
        definition = {"all": [{"m": test}]}
        compiled.append(
            _Compiled(
                name,
                Hit(rule, trigger),
                types,
                definition,
                frozenset(reads.labels),
                frozenset(reads.paths),
            )
        )
    return compiled


def _type_test(types: tuple[str, ...]) -> dict[str, Any]:
    tests = [{"e.type": event_type} for event_type in types]
    return tests[0] if len(tests) == 1 else {"$or": tests}


def _conditions(condition: Condition, reads: _Reads) -> list[dict[str, Any]]:
    """The durable-rules tests of a conjunction (flattened into the caller's ``$and``)."""
    if isinstance(condition, And):
        return [test for item in condition.items for test in _conditions(item, reads)]
    return [_condition(condition, reads)]


def _condition(condition: Condition, reads: _Reads) -> dict[str, Any]:
    if isinstance(condition, And):
        return {"$and": _conditions(condition, reads)}
    if isinstance(condition, Or):
        if not condition.items:
            return {"e.type": "\x00never"}
        if (count := _alternatives(condition)) > MAX_ALTERNATIVES:
            raise RuleError(
                f"a condition with {count} alternatives ('or' terms and 'in' values) is more "
                f"than the rule engine takes ({MAX_ALTERNATIVES}): split the rule"
            )
        return {"$or": [_condition(item, reads) for item in condition.items]}
    if isinstance(condition, Exists):
        return {"$ex" if condition.present else "$nex": {reads.field(condition.path): 1}}
    if isinstance(condition, Matches):
        return {f"re.{reads.label(condition.path, condition.pattern)}": not condition.negated}
    return _comparison(condition, reads)


def _alternatives(condition: Condition) -> int:
    """How many branches an `or` has once nested `or`s are flattened."""
    if isinstance(condition, Or):
        return sum(_alternatives(item) for item in condition.items)
    return 1


def _comparison(condition: Compare, reads: _Reads) -> dict[str, Any]:
    right = _operand(condition.right, reads)
    path = reads.field(condition.left.path)
    test = {path: right} if condition.op == "==" else {_OPS[condition.op]: {path: right}}
    # The engine may hold a comparison true when a field on its right is missing (it depends
    # on the other rules it compiled): that comparison is false, as for its left. So is one
    # that divides by a field that is 0 (as in ``raise:`` conditions, evaluated in Python).
    present = [{"$ex": {reads.field(read): 1}} for read in fields_of(condition.right)]
    nonzero = [{"$neq": {reads.field(path): 0}} for path in _divisors(condition.right)]
    guards = [*present, *nonzero]
    return {"$and": [*guards, test]} if guards else test


def _operand(operand: Field | Const | Arith, reads: _Reads) -> Any:
    if isinstance(operand, Const):
        return operand.value
    if isinstance(operand, Field):
        return {"$m": reads.field(operand.path)}
    left, right = _operand(operand.left, reads), _operand(operand.right, reads)
    if operand.op == "/":  # the engine divides integers as C does: truncated, 0 kills it
        left = {"$mul": {"$l": 1.0, "$r": left}}
    return {_ARITH[operand.op]: {"$l": left, "$r": right}}


def _divisors(operand: Field | Const | Arith) -> list[str]:
    """The fields an operand divides by directly."""
    if not isinstance(operand, Arith):
        return []
    found = _divisors(operand.left) + _divisors(operand.right)
    if operand.op == "/" and isinstance(operand.right, Field):
        found.append(operand.right.path)
    return found


def _engine_json(document: Any) -> str:
    """JSON the engine reads: it refuses a number in exponent form without a decimal point
    (``1e16``, as orjson writes it), so one gets ``.0`` (``1.0e16``)."""
    text = orjson.dumps(document).decode()
    if not _BARE_EXPONENT_HINT.search(text):
        return text
    return _STRING_OR_BARE_EXPONENT.sub(lambda m: m[0] if m[1] is None else f"{m[1]}.0{m[2]}", text)
