"""``riskmon report`` as a user meets it: generate to stdout or a file in each format, list,
show, plain errors; names from the input are escaped in HTML and Markdown."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from monitor.cli import main

from .checks import SECTIONS, html_charts, markdown_sections
from .test_recorder import BAD, ev

pytestmark = pytest.mark.usefixtures("riskmon_env")
ODD = "<b>shop|web</b>"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _replayed(tmp_path: Path) -> None:
    documents = [
        ev("order.created", f"2024-03-01T{h:02d}:10:00Z", ODD, order_id=f"O{h}", address=BAD)
        for h in range(0, 24, 3)
    ]
    documents.append(
        ev("stock.level", "2024-03-02T00:00:00Z", "depot", sku="S", warehouse="W", on_hand=0)
    )
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in documents))
    assert _invoke("run", str(path), "--no-progress").exit_code == 0


def test_generate_list_and_show(tmp_path: Path) -> None:
    _replayed(tmp_path)
    result = _invoke("report", "daily", "--date", "2024-03-01", "--tz", "UTC")
    assert result.exit_code == 0, result.output
    markdown = result.stdout
    assert markdown_sections(markdown) == SECTIONS
    assert "stored as 2024-03-01@UTC" in result.stderr
    assert "| &lt;b&gt;shop\\|web&lt;/b&gt; | — | 8 | 8 | 100.0 % |" in markdown
    assert "Incomplete" not in markdown

    out = tmp_path / "report.html"
    args = ("report", "daily", "--date", "2024-03-01", "--tz", "UTC", "--format", "html")
    assert _invoke(*args, "-o", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    charts = html_charts(html)
    assert len(charts) == 4
    assert "&lt;b&gt;shop|web&lt;/b&gt;" in html and "<b>shop" not in html
    assert _invoke("report", "show", "2024-03-01@UTC", "--format", "html").stdout == html

    later = _invoke("report", "weekly", "--week", "2024-W09", "--tz", "Asia/Kolkata")
    assert later.exit_code == 0 and "Incomplete" in later.stdout
    assert markdown_sections(later.stdout) == [SECTIONS[0], "Day by day", *SECTIONS[1:]]
    listing = _invoke("report", "list", "--format", "json").stdout.splitlines()
    assert [orjson.loads(line)["id"] for line in listing] == [
        "2024-W09@Asia/Kolkata",
        "2024-03-01@UTC",
    ]
    assert "2024-03-01@UTC" in _invoke("report", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("daily", "--date", "2024-03-01", "--tz", "Nowhere/City"), "unknown time zone"),
        (("daily", "--date", "2024-02-30", "--tz", "UTC"), "Invalid value for '--date'"),
        (("weekly", "--week", "2024-53", "--tz", "UTC"), "not an ISO week"),
        (("show", "2024-03-01@UTC"), "no report 2024-03-01@UTC"),
    ],
)
def test_errors_are_one_plain_line(args: tuple[str, ...], message: str) -> None:
    result = _invoke("report", *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output
