"""The condition language: parsing, normal form, and errors."""

from __future__ import annotations

import pytest

from rules import RuleError, parse_condition, parse_duration, parse_field
from rules._expr import And, Arith, Compare, Const, Exists, Field, Matches, Or


def test_comparison_keeps_the_field_on_the_left() -> None:
    assert parse_condition("3 > data.x") == Compare("<", Field("data.x"), Const(3))


def test_field_to_field_comparison() -> None:
    condition = parse_condition("data.on_hand < data.safety_threshold")
    assert condition == Compare("<", Field("data.on_hand"), Field("data.safety_threshold"))


def test_not_of_a_comparison_is_true_when_the_field_is_missing() -> None:
    assert parse_condition("not data.a == 1") == Or(
        (Exists("data.a", present=False), Compare("!=", Field("data.a"), Const(1)))
    )


def test_in_and_not_in() -> None:
    member = parse_condition("data.s in ['x', 'y']")
    assert member == Or(
        (Compare("==", Field("data.s"), Const("x")), Compare("==", Field("data.s"), Const("y")))
    )
    assert parse_condition("data.s not in ['x']") == And(
        (Or((Exists("data.s", present=False), Compare("!=", Field("data.s"), Const("x")))),)
    )


def test_arithmetic_is_moved_off_the_field_side() -> None:
    condition = parse_condition("data.delivered_at - data.promised_by > duration('1d')")
    assert condition == Compare(
        ">", Field("data.delivered_at"), Arith("+", Const(86400.0), Field("data.promised_by"))
    )


def test_null_comparison_is_an_existence_test() -> None:
    assert parse_condition("data.x == null") == Exists("data.x", present=False)
    assert parse_condition("data.x != None") == Exists("data.x", present=True)


def test_regex_and_its_negation() -> None:
    assert parse_condition(r"not matches(data.pc, '\d{5}\b')") == Matches(
        "data.pc", r"\d{5}\b", negated=True
    )


def test_chained_comparison_is_a_conjunction() -> None:
    assert parse_condition("0 < data.x < 5") == And(
        (Compare(">", Field("data.x"), Const(0)), Compare("<", Field("data.x"), Const(5)))
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("data.x <", "cannot read expression"),
        ("order.total > 3", "unknown field 'order.total'"),
        ("data.x", "expected a condition"),
        ("matches(data.x, '[')", "bad regular expression"),
        ("len(data.x) > 1", "known functions"),
        ("data.a * data.b > 3", "one side of a comparison must be a field"),
        ("data.s in data.t", "'in' takes a list"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_condition(text)


def test_fields_and_durations() -> None:
    assert parse_field("data.address.postcode").get({"data": {"address": {"postcode": "1"}}}) == "1"
    assert parse_field("data.missing.x").get({"data": {}}) is None
    assert parse_duration("1h30m") == 5400
    assert parse_duration("7d") == 604800
    with pytest.raises(RuleError, match="not a duration"):
        parse_duration("soon")
