"""The durable-rules matcher, with a regression test for each measured limit (DESIGN.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import EVENT_TYPES
from rules import Matcher, RuleError, Trigger, load_rules


def _pack(tmp_path: Path, rules: list[str]) -> Matcher:
    text = "rules:\n" + "".join(rules)
    path = tmp_path / "pack.yaml"
    path.write_text(text)
    return Matcher(load_rules(path, event_types=EVENT_TYPES).rules)


def _rule(rule_id: str, when: str, on: str = "stock.level", key: str = "data.sku") -> str:
    return f"""\
  - id: {rule_id}
    description: test rule
    on: [{on}]
    when: "{when}"
    key: {key}
    severity: P2
    team: t
    title: t
"""


def _stock(on_hand: float, **extra: object) -> dict[str, object]:
    return {
        "type": "stock.level",
        "data": {"sku": "S", "warehouse": "W", "on_hand": on_hand, **extra},
    }


def test_an_event_that_breaks_two_rules_hits_both(tmp_path: Path) -> None:
    matcher = _pack(tmp_path, [_rule("a", "data.on_hand < 10"), _rule("b", "data.on_hand < 5")])
    assert [hit.rule.id for hit in matcher.match(_stock(1))] == ["a", "b"]
    assert [hit.rule.id for hit in matcher.match(_stock(7))] == ["a"]


def test_more_than_64_rules_true_for_one_event(tmp_path: Path) -> None:
    matcher = _pack(tmp_path, [_rule(f"r{i}", f"data.on_hand < {i + 1}") for i in range(150)])
    assert len(matcher.match(_stock(0))) == 150
    assert len(matcher.match(_stock(100))) == 50


def test_more_than_1024_sessions_never_happen(tmp_path: Path) -> None:
    """durable-rules makes a session per ``sid`` and fails past 1024: an event's own fields,
    even one named ``sid``, never reach the top of the asserted fact."""
    matcher = _pack(tmp_path, [_rule("a", "data.on_hand < 10")])
    for index in range(3000):
        fact = {
            "type": "stock.level",
            "sid": f"s{index}",
            "data": {"sku": f"S{index}", "on_hand": 1, "sid": index},
        }
        assert len(matcher.match(fact)) == 1
    assert matcher.held_facts() == 0


def test_identical_events_are_each_matched(tmp_path: Path) -> None:
    matcher = _pack(tmp_path, [_rule("a", "data.on_hand < 10")])
    hits = [len(matcher.match(_stock(1))) for _ in range(1000)]
    assert hits == [1] * 1000


def test_no_fact_is_held_after_matching(tmp_path: Path) -> None:
    matcher = _pack(tmp_path, [_rule("a", "data.on_hand < 10"), _rule("b", "data.on_hand > 100")])
    for on_hand in range(0, 200, 3):
        matcher.match(_stock(on_hand))
    assert matcher.held_facts() == 0


def test_counts_are_exact_over_many_events(tmp_path: Path) -> None:
    """The batch-dispatch race: events are matched synchronously, so no count is off."""
    matcher = _pack(
        tmp_path,
        [
            _rule("a", "data.on_hand < 50"),
            _rule("b", "data.on_hand < 25"),
            _rule("c", "data.on_hand >= 10"),
        ],
    )
    counts = {"a": 0, "b": 0, "c": 0}
    for index in range(20_000):
        for hit in matcher.match(_stock(index % 100)):
            counts[hit.rule.id] += 1
    assert counts == {"a": 10_000, "b": 5_000, "c": 18_000}


def test_negative_tests_do_not_match_the_engines_own_state_fact(tmp_path: Path) -> None:
    matcher = _pack(
        tmp_path,
        [_rule("a", "not exists(data.tracking_no)", on="shipment.created", key="data.shipment_id")],
    )
    shipped = {"type": "shipment.created", "data": {"shipment_id": "X", "tracking_no": "T"}}
    assert matcher.match(shipped) == []
    untracked = {"type": "shipment.created", "data": {"shipment_id": "X"}}
    assert len(matcher.match(untracked)) == 1


def test_python_regular_expressions_and_their_negation(tmp_path: Path) -> None:
    matcher = _pack(
        tmp_path,
        [
            _rule("bad", "not matches(data.pc, '\\\\d{5}')"),
            _rule("good", "matches(data.pc, '[^a-z]{5}')"),
        ],
    )
    assert [h.rule.id for h in matcher.match(_stock(1, pc="01234"))] == ["good"]
    assert [h.rule.id for h in matcher.match(_stock(1, pc="1234"))] == ["bad"]
    assert [h.rule.id for h in matcher.match(_stock(1))] == ["bad"]


def test_a_field_missing_on_the_right_of_a_comparison_never_matches(tmp_path: Path) -> None:
    """Left alone, the engine held ``data.on_hand < data.safety_threshold`` true for an event
    without a threshold."""
    conditions = ["data.on_hand < data.safety_threshold", "data.on_hand > data.low - 1"]
    for rules in ([conditions[0]], conditions, [conditions[1]]):
        matcher = _pack(tmp_path, [_rule(f"r{i}", when) for i, when in enumerate(rules)])
        assert matcher.match(_stock(1)) == []
        assert len(matcher.match(_stock(1, safety_threshold=5, low=0))) == len(rules)


def test_resolve_and_arrival_triggers(tmp_path: Path) -> None:
    rule = _rule("low", "data.on_hand < 5") + "    resolve_when: cleared\n"
    absent = """\
  - id: gone
    description: no scan
    on: [shipment.created]
    key: data.shipment_id
    absent: {of: [shipment.scanned], within: 1h}
    severity: P2
    team: t
    title: t
"""
    matcher = _pack(tmp_path, [rule, absent])
    assert [h.trigger for h in matcher.match(_stock(9))] == [Trigger.RESOLVE]
    scanned = {"type": "shipment.scanned", "data": {"shipment_id": "X"}}
    assert [(h.rule.id, h.trigger) for h in matcher.match(scanned)] == [("gone", Trigger.ARRIVE)]


def test_an_or_too_large_for_the_engine_is_refused_not_hung(tmp_path: Path) -> None:
    values = ", ".join(str(i) for i in range(600))
    path = tmp_path / "pack.yaml"
    path.write_text("rules:\n" + _rule("big", f"data.on_hand in [{values}]"))
    with pytest.raises(RuleError, match="600 alternatives") as refused:
        load_rules(path, event_types=EVENT_TYPES)
    assert refused.value.file == str(path) and refused.value.line == 2


def test_numbers_in_exponent_form_are_matched_not_refused(tmp_path: Path) -> None:
    """The engine refused (error 204) ``1e16`` and ``1e-07`` as JSON numbers without a
    decimal point: in an event, the run stopped; in a rule, the file was refused."""
    matcher = _pack(
        tmp_path, [_rule("huge", "data.on_hand > 1e15"), _rule("tiny", "data.on_hand < 1e-6")]
    )
    assert [hit.rule.id for hit in matcher.match(_stock(1e16))] == ["huge"]
    assert [hit.rule.id for hit in matcher.match(_stock(-1e308))] == ["tiny"]
    assert [hit.rule.id for hit in matcher.match(_stock(1e-7))] == ["tiny"]
    assert matcher.match(_stock(5, note="1e5 units")) == []


def test_division_is_exact_and_by_zero_is_false(tmp_path: Path) -> None:
    """The engine divides integers as C does (7 / 2 == 3) and dies on a zero divisor
    (SIGFPE): divisions are made in floating point, and one by a field that is 0 is false."""
    matcher = _pack(
        tmp_path, [_rule("cover", "data.days_of_cover < data.on_hand / data.daily_sales")]
    )
    assert len(matcher.match(_stock(7, daily_sales=2, days_of_cover=3))) == 1  # 3 < 3.5
    assert matcher.match(_stock(6, daily_sales=2, days_of_cover=3)) == []
    assert matcher.match(_stock(7, daily_sales=0, days_of_cover=3)) == []


def test_arithmetic_on_constants_is_computed_and_a_zero_divisor_refused(tmp_path: Path) -> None:
    matcher = _pack(
        tmp_path, [_rule("half", "data.on_hand < 10 / 4"), _rule("shift", "data.on_hand + 5 > 10")]
    )
    assert [hit.rule.id for hit in matcher.match(_stock(2))] == ["half"]
    assert [hit.rule.id for hit in matcher.match(_stock(6))] == ["shift"]
    for when in ("data.on_hand < 10 / 0", "data.on_hand < data.safety_threshold / 0"):
        with pytest.raises(RuleError, match=r"pack\.yaml:\d+: .*division by zero"):
            _pack(tmp_path, [_rule("zero", when)])
