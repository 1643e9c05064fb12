"""``explained_by``: a rule names the aggregate rule that explains it; the parent must exist
(in any file), take as many key fields as it has, and no rule may explain itself through
others. Refusals name the file and the line of ``explained_by``."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import EVENT_TYPES
from rules import RuleError, load_rules

PARENT = """\
rules:
  - id: stock.site
    description: several products out at one site
    on: [stock.level]
    when: data.on_hand <= 0
    key: data.warehouse
    window: {within: 1d, at_least: 3}
    severity: P1
    team: inventory
    title: "Site {{ data.warehouse }}"
"""
CHILD = """\
rules:
  - id: stock.gone
    description: one product out
    on: [stock.level]
    when: data.on_hand <= 0
    key: [data.warehouse, data.sku]
    severity: P1
    team: inventory
    title: "Out: {{ data.sku }}"
    explained_by: {rule: stock.site, key: [data.warehouse]}
"""


_BY = "{}    explained_by: {{rule: stock.{}, key: data.warehouse}}\n"  # a rule, and its parent


def _load(folder: Path, *texts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number, text in enumerate(texts):
        (folder / f"{number}.yaml").write_text(text)
    return folder


def test_a_child_names_its_parent_in_another_file(tmp_path: Path) -> None:
    rules = load_rules(_load(tmp_path, PARENT, CHILD), event_types=EVENT_TYPES)
    child = rules.by_id("stock.gone")
    fact = {"data": {"warehouse": "W|1", "sku": "S"}}
    assert child.parent_of(fact) == ("stock.site", "W\\|1")
    assert rules.by_id("stock.site").key_of(fact) == "W\\|1"  # the parent's own key
    assert child.parent_of({"data": {"sku": "S"}}) is None


@pytest.mark.parametrize(
    ("texts", "line", "message"),
    [
        ((CHILD,), 10, "no rule 'stock.site'"),
        (
            (PARENT, CHILD.replace("key: [data.warehouse]}", "key: [data.warehouse, data.sku]}")),
            10,
            "has a key of 1 field(s); give as many, not 2",
        ),
        ((PARENT, CHILD.replace("key: [data.warehouse]}", "key: [warehouse]}")), 10, "field"),
        (
            (PARENT, CHILD.replace("key: [data.warehouse]}", "key: [data.site]}")),
            10,
            "data.site is not among the rule's key fields",
        ),
        (
            (_BY.format(PARENT, "area"), _BY.format(PARENT.replace("site", "area"), "site")),
            11,
            "cycle: stock.site → stock.area → stock.site",
        ),
        ((_BY.format(PARENT, "site"),), 11, "cycle: stock.site → stock.site"),
    ],
)
def test_a_bad_parent_is_refused_at_its_line(
    tmp_path: Path, texts: tuple[str, ...], line: int, message: str
) -> None:
    folder = _load(tmp_path, *texts)
    with pytest.raises(RuleError) as refused:
        load_rules(folder, event_types=EVENT_TYPES)
    assert refused.value.line == line, str(refused.value)
    assert refused.value.file is not None and refused.value.file.startswith(str(folder))
    assert message in str(refused.value)
