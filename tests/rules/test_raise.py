"""Severity from impact: ``raise`` clauses checked at file:line, and evaluated in Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor import EVENT_TYPES
from rules import Matcher, Rule, RuleError, load_rules, parse_condition
from rules._evaluate import holds

RULE = """\
rules:
  - id: order.big
    description: an order
    on: [order.created]
    key: data.order_id
    severity: P2
    raise:
      - when: data.total > 1000
        to: P1
      - when: data.promised_by - time < duration('1d')
        to: P0
    team: sales
    title: "Order {{ data.order_id }}"
"""


def _load(tmp_path: Path, text: str) -> Rule:
    path = tmp_path / "pack.yaml"
    path.write_text(text)
    (rule,) = load_rules(path, event_types=EVENT_TYPES).rules
    return rule


def _order(**data: Any) -> dict[str, Any]:
    return {"type": "order.created", "time": 1_000_000.0, "data": {"order_id": "O1", **data}}


@pytest.mark.parametrize(
    ("replace", "by", "line", "message"),
    [
        ("to: P1", "to: P2", 9, "raise to P2 is not above the rule's severity P2"),
        ("to: P1", "to: P3", 9, "not above"),
        ("to: P1", "to: P7", 9, "raise.0.to"),
        ("data.total > 1000", "data.total >", 8, "cannot read expression"),
        ("data.total > 1000", "total > 1000", 8, "unknown field 'total'"),
        ("data.total > 1000", "window.count > 2", 8, "known only to a window rule's raise"),
        ("        to: P1\n", "", 8, "raise.0.to: Field required"),
        ("        to: P1\n", "        to: P1\n        else: P0\n", 10, "raise.0.else"),
    ],
)
def test_a_broken_raise_clause_is_refused_at_its_line(
    tmp_path: Path, replace: str, by: str, line: int, message: str
) -> None:
    assert replace in RULE
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace(replace, by, 1))
    with pytest.raises(RuleError) as refused:
        load_rules(path, event_types=EVENT_TYPES)
    assert (refused.value.file, refused.value.line) == (str(path), line), str(refused.value)
    assert message in str(refused.value)


def test_raise_is_refused_in_an_absence_rule(tmp_path: Path) -> None:
    text = RULE.replace("    raise:", "    absent: {of: [order.paid], within: 1d}\n    raise:")
    with pytest.raises(RuleError, match=r"pack\.yaml:8: 'raise' is not available in absence"):
        _load(tmp_path, text)


def test_window_figures_are_known_to_a_window_rules_raise_clauses(tmp_path: Path) -> None:
    window = RULE.replace("    raise:", "    window: {within: 1h, at_least: 2}\n    raise:")
    rule = _load(tmp_path, window.replace("data.total > 1000", "window.count >= 3"))
    assert rule.severity_for({**_order(), "window": {"count": 3, "total": 3}}) == "P1"
    assert rule.severity_for({**_order(), "window": {"count": 2, "total": 2}}) == "P2"
    with pytest.raises(RuleError, match=r"pack\.yaml:9: .*unknown field 'window\.size'"):
        _load(tmp_path, window.replace("data.total > 1000", "window.size >= 3"))


def test_window_fields_are_refused_outside_raise_clauses(tmp_path: Path) -> None:
    text = RULE.replace("    key:", "    when: window.count > 1\n    key:")
    with pytest.raises(RuleError, match=r"pack\.yaml:5: .*window\.count is known only"):
        _load(tmp_path, text)


def test_the_highest_matching_clause_wins_whatever_their_order(tmp_path: Path) -> None:
    rule = _load(tmp_path, RULE)
    hours = 3600.0
    both = _order(total=5000, promised_by=1_000_000.0 + 2 * hours)
    assert rule.severity_for(both) == "P0"
    assert rule.severity_for(_order(total=5000, promised_by=1_000_000.0 + 48 * hours)) == "P1"
    assert rule.severity_for(_order(total=10, promised_by=1_000_000.0 - hours)) == "P0"
    assert rule.severity_for(_order(total=10)) == "P2"
    assert rule.severity_for(_order()) == "P2"  # missing fields raise nothing
    first, second = rule.raises
    reordered = Rule(**{**rule.__dict__, "raises": (second, first)})
    assert reordered.severity_for(both) == "P0"


@pytest.mark.parametrize(
    ("condition", "data", "expected"),
    [
        ("data.total > 1000", {"total": "5000"}, False),  # unlike values: false
        ("data.total != 1000", {"total": "1000"}, True),
        ("data.total > 1000", {"total": True}, False),
        ("data.total > 1000", {"total": [5000]}, False),
        ("data.total > data.limit", {"total": 5}, False),  # a missing right side: false
        ("data.total > 10 / data.limit", {"total": 5, "limit": 0}, False),
        ("data.total > 10 / data.limit", {"total": 5, "limit": 4}, True),
        ("data.total + 1 > 5", {"total": 5}, True),
        ("data.total * 2 >= data.limit", {"total": 5, "limit": 10}, True),
        ("data.total - data.limit < 0", {"total": "a", "limit": 1}, False),
        ("not data.total > 1000", {}, True),
        ("data.channel in ['web', 'app']", {"channel": "app"}, True),
        ("data.channel not in ['web', 'app']", {"channel": "app"}, False),
        ("exists(data.channel) and data.channel != null", {"channel": "x"}, True),
        ("matches(data.postcode, '\\d{5}')", {"postcode": 12345.0}, True),
        ("not matches(data.postcode, '\\d{5}')", {"postcode": "1234"}, True),
        ("matches(data.postcode, '\\d{5}')", {}, False),
    ],
)
def test_conditions_evaluated_in_python(
    condition: str, data: dict[str, Any], expected: bool
) -> None:
    assert holds(parse_condition(condition), _order(**data)) is expected


PARITY_CONDITIONS = [
    "data.total > 100",
    "data.total == 5",
    "data.total != 5",
    "not data.total >= 100",
    "data.total > data.amount",
    "data.total - data.amount < 10",
    "data.promised_by - time < duration('1d')",
    "data.channel == 'web'",
    "data.channel < 'm'",
    "data.channel in ['web', 'app'] or data.total < 0",
    "not exists(data.channel)",
    "matches(data.channel, '[a-z]+')",
]
PARITY_DATA = [
    {},
    {"total": 5},
    {"total": 5.0, "amount": 1},
    {"total": 150, "amount": 145.5},
    {"total": -3, "amount": -30, "channel": "web"},
    {"total": 100, "amount": 100, "channel": "app"},
    {"channel": "zz", "promised_by": 1_000_000.0 + 3600},
    {"channel": "Web", "promised_by": 1_000_000.0 + 3 * 86400},
]


def test_python_evaluation_agrees_with_the_compiled_matcher(tmp_path: Path) -> None:
    """Compared like with like, a condition means the same in a ``raise`` clause as in a
    ``when`` (the rule engine also compares unlike values: those are not compared here)."""
    rules = "".join(
        RULE.split("rules:\n")[1]
        .replace("order.big", f"r{index}")
        .replace("    key:", f'    when: "{condition}"\n    key:')
        for index, condition in enumerate(PARITY_CONDITIONS)
    )
    path = tmp_path / "pack.yaml"
    path.write_text("rules:\n" + rules)
    rule_set = load_rules(path, event_types=EVENT_TYPES)
    matcher = Matcher(rule_set.rules)
    try:
        for data in PARITY_DATA:
            fact = _order(**data)
            compiled = {hit.rule.id for hit in matcher.match(fact)}
            evaluated = {rule.id for rule in rule_set.rules if holds(rule.when, fact)}
            assert evaluated == compiled, data
    finally:
        matcher.close()
