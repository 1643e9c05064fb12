"""``riskmon import csv``: options, summary, exit status."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from monitor.cli import main

from .conftest import JsonLines

MAPPING = """\
params:
  channel: web
events:
  - type: order.created
    id: "shop:{order}"
    source: "{shop}"
    time: placed
    data:
      order_id: order
      channel: {param: channel}
      total: {column: total, type: float}
"""


def invoke(folder: Path, rows: str, *options: str) -> Result:
    (folder / "orders.csv").write_text(rows, encoding="utf-8")
    (folder / "map.yaml").write_text(MAPPING, encoding="utf-8")
    args = ["import", "csv", str(folder / "orders.csv"), "-m", str(folder / "map.yaml"), *options]
    return CliRunner().invoke(main, args)


def test_import_csv_with_parameters(tmp_path: Path, jsonl: JsonLines) -> None:
    rows = "order,shop,placed,total\nA1,s1,2018-01-15T10:00:00,9.5\nA2,s1,2018-01-14T10:00:00,x\n"
    out = tmp_path / "events.jsonl"
    result = invoke(tmp_path, rows, "-o", str(out), "--set", "channel=app")
    assert result.exit_code == 0, result.output
    assert [(e["id"], e["time"], e["data"]) for e in jsonl(out)] == [
        ("shop:A1", "2018-01-15T10:00:00Z", {"order_id": "A1", "channel": "app", "total": 9.5})
    ]
    [reject] = jsonl(tmp_path / "events.rejects.jsonl")
    assert (reject["line"], reject["reason"]) == (3, "bad-number")
    summary = result.output.splitlines()
    assert summary[0].split() == ["rows", "read", "2"]
    assert "order.created" in summary[2]
    assert summary[-1].split() == ["bad-number", "1"]


def test_nothing_written_exits_1_and_keeps_the_rejects(tmp_path: Path, jsonl: JsonLines) -> None:
    rejects = tmp_path / "bad.jsonl"
    rows = "order,shop,placed,total\nA1,s1,2018-02-30T10:00:00,1\n"
    result = invoke(tmp_path, rows, "-o", str(tmp_path / "e.jsonl"), "--rejects", str(rejects))
    assert result.exit_code == 1
    assert [r["reason"] for r in jsonl(rejects)] == ["bad-timestamp"]


def test_refusals_name_the_mapping_line(tmp_path: Path) -> None:
    result = invoke(tmp_path, "order,placed\n", "-o", str(tmp_path / "e.jsonl"))
    assert result.exit_code != 0
    assert f"{tmp_path / 'map.yaml'}:6: events[0].source: unknown column 'shop'" in result.output
    result = invoke(tmp_path, "order,placed\n", "-o", str(tmp_path / "e.jsonl"), "--set", "x=1")
    assert "unknown parameter 'x'" in result.output
