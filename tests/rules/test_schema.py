"""Rule files: broken ones are refused at file:line; the rules in force stay in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import EVENT_TYPES
from rules import PACKS_DIR, RuleBook, RuleError, load_rules

GOOD = """\
rules:
  - id: stock.low
    description: low stock
    on: [stock.level]
    when: data.on_hand < 5
    key: [data.warehouse, data.sku]
    severity: P2
    team: inventory
    title: "Low: {{ data.sku }}"
"""


def _write(folder: Path, text: str, name: str = "pack.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("replace", "by", "line", "message"),
    [
        ("severity: P2", "severity: P7", 7, "severity"),
        ("when: data.on_hand < 5", "when: data.on_hand <", 5, "cannot read expression"),
        ("on: [stock.level]", "on: [stock.lvl]", 4, "unknown event type"),
        ('title: "Low: {{ data.sku }}"', 'title: "Low: {{ data.sku "', 9, "title template"),
        ("key: [data.warehouse, data.sku]", "key: [warehouse]", 6, "unknown field"),
        ("    team: inventory\n", "", 2, "team"),
        ("team: inventory", "team: inventory\n    colour: red", 9, "colour"),
        (
            "    severity: P2",
            "    severity: P2\n    escalate: [{after: 1h, to: P3}]",
            8,
            "not above",
        ),
        ("severity: P2", "severity: [P2", 8, "not valid YAML"),
    ],
)
def test_broken_file_is_refused_at_file_and_line(
    tmp_path: Path, replace: str, by: str, line: int, message: str
) -> None:
    assert replace in GOOD
    path = _write(tmp_path, GOOD.replace(replace, by))
    with pytest.raises(RuleError) as refused:
        load_rules(path, event_types=EVENT_TYPES)
    assert refused.value.file == str(path)
    assert refused.value.line == line, str(refused.value)
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"{path}:{line}: ")


def test_duplicate_rule_id_across_files_names_both_places(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    second = _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleError, match=r"already defined at .*a\.yaml:2") as refused:
        load_rules(tmp_path, event_types=EVENT_TYPES)
    assert refused.value.file == str(second)


def test_a_broken_reload_leaves_the_previous_rules_in_force(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    book = RuleBook.load(path, event_types=EVENT_TYPES)
    version = book.current.rules.version
    path.write_text(GOOD.replace("severity: P2", "severity: high"))
    with pytest.raises(RuleError, match=":7:"):
        book.reload()
    assert book.current.rules.version == version
    fact = {"type": "stock.level", "data": {"warehouse": "W", "sku": "S", "on_hand": 1}}
    assert [hit.rule.id for hit in book.current.matcher.match(fact)] == ["stock.low"]
    path.write_text("rules: []\n")  # emptied by mistake: refused, the rules stay
    with pytest.raises(RuleError, match="no rules in the rule files"):
        book.reload()
    assert [hit.rule.id for hit in book.current.matcher.match(fact)] == ["stock.low"]
    path.write_text(GOOD.replace("< 5", "< 0"))
    assert book.reload().version != version
    assert book.current.matcher.match(fact) == []


def test_shipped_pack_loads_with_the_rules_the_product_promises() -> None:
    rule_set = load_rules(PACKS_DIR, event_types=EVENT_TYPES)
    assert {rule.id for rule in rule_set.rules} == {
        "stock.below-safety",
        "stock.out",
        "stock.site-outage",
        "delivery.late",
        "fulfilment.late-handover",
        "fulfilment.not-handed-over",
        "logistics.no-scan-24h",
        "customs.hold",
        "order.data-error",
        "order.duplicate",
    }
    assert all(rule.examples for rule in rule_set.rules)


def test_every_shape_fault_of_a_file_is_listed_with_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "rules:\n  - id: a\n    description: d\n    on: [stock.level]\n    severity: P9\n"
    )
    with pytest.raises(RuleError) as refused:
        load_rules(path, event_types=EVENT_TYPES)
    text = str(refused.value)
    for fault in (
        ":2: rules.0.key",
        ":2: rules.0.team",
        ":2: rules.0.title",
        ":5: rules.0.severity",
    ):
        assert f"{path}{fault}" in text
