"""Rule files: YAML text → checked ``Rule`` objects, every refusal placed at ``file:line``.

Stages: ruamel.yaml reads the text keeping line numbers; pydantic checks the shape of each
section; small per-field checks parse expressions, durations and templates and resolve
references. Nothing here touches the rule engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml.comments import CommentedMap

from ._durations import parse_duration
from ._errors import RuleError
from ._expr import (
    TRUE,
    And,
    Condition,
    Exists,
    compared_fields,
    negate,
    parse_condition,
    parse_field,
)
from ._model import SEVERITIES, Absence, Escalation, Example, ExplainedBy, Raise, Rule, Window
from ._yaml_lines import yaml_line, yaml_mapping, yaml_plain

_NOT_RULES = "a rule file is a mapping with a 'rules:' list"

# A missing field renders empty, however deep the path (data.address.city without an address).
_TITLES = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)
_RULE_ID = r"^[a-z0-9][a-z0-9_.-]*$"
Severity = Literal["P0", "P1", "P2", "P3"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _EscalationDoc(_Section):
    after: str
    to: Severity


class _RaiseDoc(_Section):
    when: str = Field(min_length=1)
    to: Severity


class _AbsenceDoc(_Section):
    of: list[str] = Field(min_length=1)
    within: str


class _WindowDoc(_Section):
    within: str
    at_least: float = Field(gt=0)
    total: str | None = None


class _ExplainedByDoc(_Section):
    rule: str = Field(pattern=_RULE_ID)
    key: str | list[str] = Field(min_length=1)


class _ExampleDoc(_Section):
    name: str | None = None
    events: list[dict[str, Any]] = Field(min_length=1)
    expect: list[dict[str, Any]]
    until: str | None = None


class _RuleDoc(_Section):
    id: str = Field(pattern=_RULE_ID)
    description: str = Field(min_length=1)
    on: list[str] = Field(min_length=1)
    when: str | bool = "true"
    unless: str | None = None
    key: str | list[str] = Field(min_length=1)
    severity: Severity
    escalate: list[_EscalationDoc] = []
    raise_: list[_RaiseDoc] = Field(default=[], alias="raise")
    team: str = Field(min_length=1)
    title: str = Field(min_length=1)
    resolve_when: str | None = None
    absent: _AbsenceDoc | None = None
    window: _WindowDoc | None = None
    explained_by: _ExplainedByDoc | None = None
    examples: list[_ExampleDoc] = []


class _FileDoc(_Section):
    rules: list[_RuleDoc]


def read_rule_file(text: str, *, file: str, event_types: Sequence[str] | None = None) -> list[Rule]:
    """Parse and check one rule file's text; ``RuleError`` at ``file:line`` on any fault."""
    document = yaml_mapping(text, file, RuleError, _NOT_RULES)
    if "rules" not in document:
        raise RuleError(_NOT_RULES, file=file, line=1)
    try:
        parsed = _FileDoc.model_validate(yaml_plain(document))
    except ValidationError as error:
        found = [
            (yaml_line(document, item["loc"]), ".".join(map(str, item["loc"])), item["msg"])
            for item in error.errors()
        ]
        found.sort()
        (line, location, message), *more = found
        others = "".join(f"\n{file}:{n}: {where}: {what}" for n, where, what in more[:9])
        raise RuleError(f"{location}: {message}{others}", file=file, line=line) from None
    rules = []
    for index, rule_doc in enumerate(parsed.rules):
        node = document["rules"][index]
        rules.append(_build_rule(rule_doc, node, file=file, event_types=event_types))
    return rules


def _build_rule(
    doc: _RuleDoc, node: CommentedMap, *, file: str, event_types: Sequence[str] | None
) -> Rule:
    def at(name: str, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except RuleError as error:
            raise error.located(file, yaml_line(node, [name])) from None

    known = set(event_types) if event_types is not None else None
    at("on", lambda: _check_types(doc.on, known))
    condition: Condition = at(
        "when",
        lambda: parse_condition(str(doc.when).lower() if isinstance(doc.when, bool) else doc.when),
    )
    if doc.unless:
        unless = at("unless", lambda: parse_condition(doc.unless or ""))
        condition = And((condition, negate(unless))) if condition != TRUE else negate(unless)
    keys = doc.key if isinstance(doc.key, list) else [doc.key]
    rule = Rule(
        id=doc.id,
        description=doc.description,
        on=tuple(doc.on),
        when=condition,
        key=at("key", lambda: tuple(parse_field(text) for text in keys)),
        severity=doc.severity,
        team=doc.team,
        title=at("title", lambda: _template(doc.title)),
        escalate=at("escalate", lambda: _escalations(doc)),
        raises=at("raise", lambda: _raises(doc, node)),
        resolve_when=at("resolve_when", lambda: _resolve_condition(doc.resolve_when, condition)),
        absent=at("absent", lambda: _absence(absent, known)) if (absent := doc.absent) else None,
        window=at("window", lambda: _window(window)) if (window := doc.window) else None,
        explained_by=_explained_by(parent, keys, node, file)
        if (parent := doc.explained_by)
        else None,
        examples=at("examples", lambda: tuple(_examples(doc, node))),
        file=file,
        line=node.lc.line + 1,
    )
    if rule.absent and rule.window:
        raise RuleError("a rule has 'absent' or 'window', not both", file=file, line=rule.line)
    return rule


def _resolve_condition(text: str | None, condition: Condition) -> Condition | None:
    """``cleared`` resolves when the rule's own condition no longer holds for the key, on
    evidence: every field it compares is present (a reading with a field missing proves
    nothing either way)."""
    if text is None:
        return None
    if text.strip() != "cleared":
        return parse_condition(text)
    present = tuple(Exists(path) for path in compared_fields(condition))
    return And((*present, negate(condition)))


def _is_timestamp(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _check_types(types: Sequence[str], known: set[str] | None) -> None:
    if known is None:
        return
    unknown = [name for name in types if name not in known]
    if unknown:
        raise RuleError(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _template(text: str) -> Any:
    try:
        return _TITLES.from_string(text)
    except TemplateSyntaxError as error:
        raise RuleError(f"title template: {error.message}") from None


def _escalations(doc: _RuleDoc) -> tuple[Escalation, ...]:
    steps = tuple(Escalation(parse_duration(step.after), step.to) for step in doc.escalate)
    for step in steps:
        if step.after <= 0:
            raise RuleError("an escalation step waits a positive time, e.g. after: 1h")
        if SEVERITIES.index(step.to) >= SEVERITIES.index(doc.severity):
            raise RuleError(
                f"escalation to {step.to} is not above the rule's severity {doc.severity}"
            )
    return steps


def _raises(doc: _RuleDoc, node: CommentedMap) -> tuple[Raise, ...]:
    """Each clause checked at its own line: its condition parses (``window.*`` only in a
    window rule) and its ``to`` is above the rule's severity."""
    if doc.raise_ and doc.absent:
        raise RuleError("'raise' is not available in absence rules yet: use 'escalate'")
    clauses = []
    for index, clause in enumerate(doc.raise_):
        try:
            when = parse_condition(clause.when, window=doc.window is not None)
        except RuleError as error:
            line = yaml_line(node, ["raise", index, "when"])
            raise RuleError(error.message, line=line) from None
        if SEVERITIES.index(clause.to) >= SEVERITIES.index(doc.severity):
            line = yaml_line(node, ["raise", index, "to"])
            message = f"raise to {clause.to} is not above the rule's severity {doc.severity}"
            raise RuleError(message, line=line)
        clauses.append(Raise(when, clause.to))
    return tuple(clauses)


def _absence(doc: _AbsenceDoc, known: set[str] | None) -> Absence:
    _check_types(doc.of, known)
    return Absence(of=tuple(doc.of), within=parse_duration(doc.within))


def _window(doc: _WindowDoc) -> Window:
    total = parse_field(doc.total) if doc.total else None
    return Window(within=parse_duration(doc.within), at_least=doc.at_least, total=total)


def _explained_by(
    doc: _ExplainedByDoc, own_key: list[str], node: CommentedMap, file: str
) -> ExplainedBy:
    """The parent rule and its key fields, each one of the rule's own key fields; whether
    that rule exists is checked once every file is read (``check_parents``)."""
    keys = doc.key if isinstance(doc.key, list) else [doc.key]
    line = yaml_line(node, ["explained_by", "key"])
    try:
        fields = tuple(parse_field(text) for text in keys)
        own = [parse_field(text).path for text in own_key]
    except RuleError as error:
        raise RuleError(error.message, file=file, line=line) from None
    strangers = [f.path for f in fields if f.path not in own]
    if strangers:
        message = (
            f"explained_by: {', '.join(strangers)} is not among the rule's key fields "
            "(a ticket's parent follows from its key)"
        )
        raise RuleError(message, file=file, line=line)
    positions = tuple(own.index(f.path) for f in fields)
    return ExplainedBy(doc.rule, fields, positions, yaml_line(node, ["explained_by"]))


def _examples(doc: _RuleDoc, node: CommentedMap) -> list[Example]:
    examples = []
    for index, example in enumerate(doc.examples):
        line = yaml_line(node, ["examples", index])
        name = example.name or f"{doc.id} example {index + 1}"
        if example.until is not None and not _is_timestamp(example.until):
            raise RuleError(
                f"until: {example.until!r} is not an ISO 8601 time with an offset", line=line
            )
        examples.append(
            Example(name, tuple(example.events), tuple(example.expect), example.until, line)
        )
    return examples
