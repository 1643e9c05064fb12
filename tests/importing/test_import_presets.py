"""The shipped presets on the real data, checked against values computed independently
from the raw CSV files with the csv module."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from monitor import validate_event
from monitor.cli import main
from monitor.importing import ImportReport, load_mapping, preset_path, run_import

from .conftest import JsonLines

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
Rows = list[dict[str, str]]


def read_csv(path: Path) -> Rows:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def utc(local: str) -> str:
    """A Sao Paulo wall-clock time ``YYYY-MM-DD HH:MM:SS`` as UTC text."""
    moment = datetime.fromisoformat(local).replace(tzinfo=SAO_PAULO).astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def end_of_day_utc(local_midnight: str) -> str:
    day = date.fromisoformat(local_midnight[:10])
    moment = datetime.combine(day, time(23, 59, 59, 999999), SAO_PAULO).astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def olist_raw(shared_data: Path) -> dict[str, Any]:
    folder = shared_data / "olist"
    items: dict[str, Rows] = defaultdict(list)
    for row in read_csv(folder / "olist_order_items_dataset.csv"):
        items[row["order_id"]].append(row)
    payments: dict[str, Rows] = defaultdict(list)
    for row in read_csv(folder / "olist_order_payments_dataset.csv"):
        payments[row["order_id"]].append(row)
    customers = {r["customer_id"]: r for r in read_csv(folder / "olist_customers_dataset.csv")}
    orders = read_csv(folder / "olist_orders_dataset.csv")
    return {"orders": orders, "customers": customers, "items": items, "payments": payments}


@pytest.fixture(scope="module")
def olist(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory, jsonl: JsonLines
) -> tuple[ImportReport, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("olist") / "events.jsonl"
    report = run_import(load_mapping(preset_path("olist")), shared_data / "olist", out)
    return report, jsonl(out)


def by_id(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {event["id"]: event for event in events}


def test_olist_counts_per_event_type(olist: Any, olist_raw: dict[str, Any]) -> None:
    report, events = olist
    orders = olist_raw["orders"]
    present = {
        column: sum(1 for order in orders if order[column])
        for column in (
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
        )
    }
    assert report.rows_read == len(orders) == 8000
    assert report.events == {
        "order.created": present["order_purchase_timestamp"],
        "order.paid": present["order_approved_at"],
        "shipment.created": present["order_delivered_carrier_date"],
        "shipment.delivered": present["order_delivered_customer_date"],
    }
    assert report.rejects == {}
    assert len(by_id(events)) == len(events) == report.events_written


def test_olist_every_line_validates_and_is_sorted(olist: Any) -> None:
    _, events = olist
    times = [validate_event(event).time for event in events]
    assert times == sorted(times)


def test_olist_known_order(olist: Any) -> None:
    events = by_id(olist[1])
    created = events["olist:b9a6c5f5df52c7226ac85aee7524c27f:created"]
    assert created["time"] == "2018-06-12T23:07:44Z"  # 20:07:44 in Sao Paulo (UTC-3)
    assert created["subject"] == "b9a6c5f5df52c7226ac85aee7524c27f"
    assert created["data"]["promised_by"] == "2018-07-18T02:59:59.999999Z"  # 2018-07-17, end
    handover = events["olist:b9a6c5f5df52c7226ac85aee7524c27f:handover"]
    assert handover["time"] == handover["data"]["handed_over_at"] == "2018-06-13T16:09:00Z"
    assert handover["data"]["status"] == "in_transit"


def test_olist_orders_match_the_raw_files(olist: Any, olist_raw: dict[str, Any]) -> None:
    events = by_id(olist[1])
    padded = 0
    for order in olist_raw["orders"]:
        order_id = order["order_id"]
        customer = olist_raw["customers"][order["customer_id"]]
        items = olist_raw["items"][order_id]
        data = events[f"olist:{order_id}:created"]["data"]
        assert data["customer_id"] == customer["customer_unique_id"]
        assert data["status"] == order["order_status"]
        postcode = customer["customer_zip_code_prefix"]
        padded += len(postcode) == 4
        assert data["address"]["postcode"] == postcode.rjust(5, "0")
        assert [(i["sku"], i["price"]) for i in data["items"]] == [
            (i["product_id"], float(i["price"])) for i in items
        ]
        total = round(sum(float(i["price"]) + float(i["freight_value"]) for i in items), 2)
        assert data.get("total") == (total if items else None)
        assert data["promised_by"] == end_of_day_utc(order["order_estimated_delivery_date"])
    assert padded == 1917  # customers whose prefix lost its leading zero


def test_olist_payments_and_shipments(olist: Any, olist_raw: dict[str, Any]) -> None:
    events = by_id(olist[1])
    for order in olist_raw["orders"]:
        order_id = order["order_id"]
        payments = olist_raw["payments"][order_id]
        if order["order_approved_at"]:
            paid = events[f"olist:{order_id}:paid"]
            assert paid["time"] == utc(order["order_approved_at"])
            amount = round(sum(float(p["payment_value"]) for p in payments), 2)
            assert paid["data"].get("amount") == (amount if payments else None)
            types = list(dict.fromkeys(p["payment_type"] for p in payments))
            assert paid["data"].get("payment_types", []) == types
        if order["order_delivered_carrier_date"]:
            shipment = events[f"olist:{order_id}:handover"]["data"]
            limits = [i["shipping_limit_date"] for i in olist_raw["items"][order_id]]
            assert shipment.get("ship_by") == (utc(min(limits)) if limits else None)
        if order["order_delivered_customer_date"]:
            delivered = events[f"olist:{order_id}:delivered"]
            assert delivered["data"]["delivered_at"] == utc(order["order_delivered_customer_date"])
            assert delivered["data"]["shipment_id"] == order_id


def test_olist_zero_padded_postcode_example(olist: Any, olist_raw: dict[str, Any]) -> None:
    order = next(
        o
        for o in olist_raw["orders"]
        if len(olist_raw["customers"][o["customer_id"]]["customer_zip_code_prefix"]) == 4
    )
    raw_prefix = olist_raw["customers"][order["customer_id"]]["customer_zip_code_prefix"]
    data = by_id(olist[1])[f"olist:{order['order_id']}:created"]["data"]
    assert data["address"]["postcode"] == "0" + raw_prefix
    assert data["address"]["country"] == "BR"


def test_civ_stock_with_three_safety_months(
    shared_data: Path, tmp_path: Path, jsonl: JsonLines
) -> None:
    source = shared_data / "civ_stock" / "contraceptive_logistics_data.csv"
    out = tmp_path / "stock.jsonl"
    args = ["import", "civ-stock", str(source), "-o", str(out), "--safety-months", "3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "stock.level" in result.output
    events = jsonl(out)
    rows = read_csv(source)
    assert len(events) == len(rows) == 38842
    assert jsonl(tmp_path / "stock.rejects.jsonl") == []
    times = [validate_event(event).time for event in events]
    assert times == sorted(times)
    events_by_id = by_id(events)
    for row in rows:
        year, month = int(row["year"]), int(row["month"])
        key = f"civ:{row['site_code']}:{row['product_code']}:{year:04}-{month:02}"
        event = events_by_id[key]
        following = date(year + month // 12, month % 12 + 1, 1)
        assert event["time"] == f"{following.isoformat()}T00:00:00Z"
        assert event["subject"] == f"{row['site_code']}/{row['product_code']}"
        data = event["data"]
        assert data["safety_threshold"] == float(row["average_monthly_consumption"]) * 3
        assert data["on_hand"] == int(row["stock_end"])
        assert data["stockout_days"] == int(row["stock_stockout_days"])
        assert (data["region"], data["district"]) == (row["region"], row["district"])


def test_end_of_day_in_summer_time(olist: Any, olist_raw: dict[str, Any]) -> None:
    order = next(
        o for o in olist_raw["orders"] if o["order_estimated_delivery_date"].startswith("2018-01")
    )
    promised = by_id(olist[1])[f"olist:{order['order_id']}:created"]["data"]["promised_by"]
    day = date.fromisoformat(order["order_estimated_delivery_date"][:10]) + timedelta(days=1)
    assert promised == f"{day.isoformat()}T01:59:59.999999Z"  # Brazil summer time, UTC-2
