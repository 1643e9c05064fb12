"""The main job end to end on real data, through the CLI, on the embedded default:
import the Olist sample and the stock records, replay them, compare the tickets with an
independent computation from the raw CSV files; a second run changes nothing."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from ..conftest import SHARED_DATA
from .independent import olist_expected, stock_expected

OLIST = SHARED_DATA / "olist"
STOCK = SHARED_DATA / "civ_stock" / "contraceptive_logistics_data.csv"
RISKMON = [sys.executable, "-m", "monitor.cli"]


def riskmon(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI as a user would; fail the test with its output if it fails."""
    done = subprocess.run([*RISKMON, *args], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return done


def tickets() -> list[dict[str, object]]:
    listing = riskmon("tickets", "list", "--format", "json").stdout
    return [orjson.loads(line) for line in listing.splitlines()]


@pytest.mark.usefixtures("riskmon_env")
def test_olist_orders_become_the_tickets_the_raw_data_implies(tmp_path: Path) -> None:
    events = tmp_path / "olist.jsonl"
    riskmon("import", "olist", str(OLIST), "-o", str(events))
    riskmon("run", str(events))
    found: dict[str, set[str]] = defaultdict(set)
    listed = tickets()
    for ticket in listed:
        found[str(ticket["rule"])].add(str(ticket["dedup_key"]))
    expected = olist_expected(OLIST)
    for rule in (
        "delivery.late",
        "fulfilment.late-handover",
        "fulfilment.not-handed-over",
        "order.data-error",
    ):
        assert found[rule] == expected[rule], rule
    duplicates = {key.split("|")[0] for key in found["order.duplicate"]}
    assert duplicates == expected["order.duplicate"]
    assert len(found["order.duplicate"]) == len(expected["order.duplicate"])
    assert len(expected["delivery.late"]) > 400  # the comparison is not vacuous

    again = riskmon("run", str(events)).stdout.decode()
    assert "No ticket changed" in again
    assert tickets() == listed


@pytest.mark.usefixtures("riskmon_env")
def test_stock_records_become_the_tickets_the_raw_data_implies(tmp_path: Path) -> None:
    events = tmp_path / "stock.jsonl"
    riskmon("import", "civ-stock", str(STOCK), "-o", str(events), "--safety-months", "3")
    riskmon("run", str(events))
    listed = tickets()
    expected = stock_expected(STOCK, safety_months=3)
    for rule, figures in expected.items():
        mine = [t for t in listed if t["rule"] == rule]
        assert len(mine) == figures["tickets"], rule
        assert sum(int(t["occurrences"]) for t in mine) == figures["occurrences"], rule
        assert sum(t["suppressed_by"] is not None for t in mine) == figures["suppressed"], rule
    assert Counter(t["severity"] for t in listed if t["rule"] == "stock.out")["P0"] > 0
    assert expected["stock.out"]["tickets"] > 100
    assert expected["stock.out"]["suppressed"] > 10
    outages = {t["dedup_key"]: t["id"] for t in listed if t["rule"] == "stock.site-outage"}
    for ticket in listed:
        if ticket["suppressed_by"] is not None:  # by the outage ticket of its own site
            assert ticket["suppressed_by"] == outages[str(ticket["dedup_key"]).split("|")[0]]

    again = riskmon("run", str(events)).stdout.decode()
    assert "No ticket changed" in again
    assert tickets() == listed
