"""Regressions from trying to break the rule language with odd but possible input."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import EVENT_TYPES
from rules import Matcher, RuleError, load_rules, parse_condition, parse_duration

RULE = """\
rules:
  - id: r
    description: d
    on: [order.created, stock.level]
    when: {when}
    key: {key}
    severity: P2
    team: t
    title: "{title}"
"""


def _rules(tmp_path: Path, *, when: str = "true", key: str = "data.sku", title: str = "t"):  # type: ignore[no-untyped-def]
    path = tmp_path / "r.yaml"
    path.write_text(RULE.format(when=when, key=key, title=title))
    return load_rules(path, event_types=EVENT_TYPES)


def test_a_title_that_fails_on_an_event_falls_back_instead_of_stopping(tmp_path: Path) -> None:
    rule = _rules(tmp_path, title="City {{ data.address.city }} {{ data.on_hand / 0 }}").rules[0]
    title = rule.render_title({"data": {"sku": "S", "on_hand": 1}})
    assert title.startswith("r S: (title template failed: ZeroDivisionError")
    rule = _rules(tmp_path, title="City {{ data.address.city }}!").rules[0]
    assert rule.render_title({"data": {"sku": "S"}}) == "City !"


def test_conditions_do_not_look_inside_lists_whatever_else_the_pack_reads(
    tmp_path: Path,
) -> None:
    for when in ("exists(data.items.sku)", "exists(data.items) and exists(data.items.sku)"):
        matcher = Matcher(_rules(tmp_path, when=f'"{when}"', key="data.order_id").rules)
        for items in ([], [{"sku": "A"}]):
            fact = {"type": "order.created", "data": {"order_id": "O", "items": items}}
            assert matcher.match(fact) == [], (when, items)


def test_composite_keys_keep_their_parts_apart(tmp_path: Path) -> None:
    rule = _rules(tmp_path, key="[data.warehouse, data.sku]").rules[0]
    first = rule.key_of({"data": {"warehouse": "W|1", "sku": "A"}})
    second = rule.key_of({"data": {"warehouse": "W", "sku": "1|A"}})
    assert first != second
    assert rule.key_of({"data": {"warehouse": "W1", "sku": "S1"}}) == "W1|S1"


def test_integral_numbers_match_as_written(tmp_path: Path) -> None:
    matcher = Matcher(_rules(tmp_path, when="\"matches(data.on_hand, '\\\\d+')\"").rules)
    assert len(matcher.match({"type": "stock.level", "data": {"sku": "S", "on_hand": 5.0}})) == 1


@pytest.mark.parametrize(
    ("when", "key", "message"),
    [
        ("exists(data.a, data.b)", "data.sku", "takes 1 argument"),
        ("true", "[]", "key"),
        ("not " * 600 + "data.a == 1", "data.sku", "nested too deeply"),
    ],
)
def test_odd_rules_are_refused_with_their_place(
    tmp_path: Path, when: str, key: str, message: str
) -> None:
    with pytest.raises(RuleError, match=message) as refused:
        _rules(tmp_path, when=f'"{when}"', key=key)
    assert refused.value.file and refused.value.line


def test_odd_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        RULE.format(when="true", key="data.sku", title="t")
        + "    escalate: [{after: 0s, to: P1}]\n"
    )
    with pytest.raises(RuleError, match="positive time"):
        load_rules(path, event_types=EVENT_TYPES)
    path.write_text("rules:\n  - id: \x07\n")
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules(path, event_types=EVENT_TYPES)
    example = (
        "    examples:\n"
        "      - events: [{type: stock.level, time: '2024-01-01T00:00:00Z',\n"
        "                  data: {sku: S, warehouse: W, on_hand: 1}}]\n"
        "        until: tomorrow\n"
        "        expect: []\n"
    )
    path.write_text(RULE.format(when="true", key="data.sku", title="t") + example)
    with pytest.raises(RuleError, match="until") as refused:
        load_rules(path, event_types=EVENT_TYPES)
    assert refused.value.line == 11


def test_durations_have_a_ceiling() -> None:
    with pytest.raises(RuleError, match="ten years"):
        parse_duration("999999w")
    assert parse_condition("data.t - data.u > duration('52w')")


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    text = RULE.format(when="true", key="data.sku", title="Caf\xe9")  # é, saved as Latin-1
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(RuleError, match="not UTF-8: byte 0xe9") as refused:
        load_rules(path, event_types=EVENT_TYPES)
    assert (refused.value.file, refused.value.line) == (str(path), 9)
