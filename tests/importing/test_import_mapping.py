"""The mapping machinery on small CSV files written per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor import ImportMappingError, validate_event
from monitor.importing import ImportReport, load_mapping, run_import

from .conftest import JsonLines

SHOP = """\
rows: orders.csv
timezone: America/Sao_Paulo
timestamp_formats: ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]
params:
  currency: BRL
  markup: 1
joins:
  customer: {file: customers.csv, on: customer, key: id}
  lines: {file: lines.csv, on: order, many: true}
derive:
  paid_amount: {column: amount, type: float}
events:
  - type: order.created
    id: "shop:{order}:created"
    source: shop
    subject: "{order}"
    time: placed
    data:
      order_id: order
      customer_id: customer
      rush: {column: rush, type: bool}
      address:
        postcode: {column: customer.zip, pad: 5}
        city: customer.city
      items:
        each: lines
        fields:
          sku: sku
          quantity: {column: qty, type: int}
          price: {column: price, type: float}
      total: {sum: lines, of: [price, freight], round: 2}
      line_count: {count: lines}
      cheapest: {min: lines, of: price, type: float}
      dearest: {max: lines, of: price, type: float}
      skus: {distinct: lines, of: sku}
      currency: {param: currency}
      promised_by: {column: promised, type: date-end}
  - type: order.paid
    id: "shop:{order}:paid"
    source: shop
    time: paid
    data:
      order_id: order
      amount: {expr: "paid_amount * params.markup", type: float, round: 2}
"""

ORDERS = """\
order,customer,rush,placed,paid,promised,amount
A1,c1,yes,2018-01-15 10:00:00,2018-01-15 10:30:00,2018-01-20 00:00:00,30.5
A2,c2,no,15/07/2018 09:15,,2018-07-20 00:00:00,
"""
CUSTOMERS = "id,zip,city\nc1,1310,sao paulo\nc2,22041,rio de janeiro\n"
LINES = "order,sku,qty,price,freight\nA1,p1,2,10.10,1.05\nA1,p2,1,5.00,\nA1,p1,1,3.33,0.5\n"


def run(
    folder: Path,
    jsonl: JsonLines,
    mapping: str = SHOP,
    params: dict[str, Any] | None = None,
    **files: str,
) -> tuple[ImportReport, list[dict[str, Any]], list[dict[str, Any]]]:
    """Write the mapping and CSV files (``orders``, ``customers``, ``lines`` by default),
    import them, and return the report, the events and the rejects."""
    for name, text in ({"orders": ORDERS, "customers": CUSTOMERS, "lines": LINES} | files).items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    (folder / "map.yaml").write_text(mapping, encoding="utf-8")
    report = run_import(load_mapping(folder / "map.yaml", params), folder, folder / "out.jsonl")
    return report, jsonl(report.out_path), jsonl(report.rejects_path)


def test_fields_types_joins_and_aggregates(tmp_path: Path, jsonl: JsonLines) -> None:
    report, events, rejects = run(tmp_path, jsonl)
    assert rejects == []
    assert report.events == {"order.created": 2, "order.paid": 1}
    first = events[0]
    assert first["id"] == "shop:A1:created"
    assert first["time"] == "2018-01-15T12:00:00Z"  # summer time in 2018-01: UTC-2
    assert first["data"] == {
        "order_id": "A1",
        "customer_id": "c1",
        "rush": True,
        "address": {"postcode": "01310", "city": "sao paulo"},
        "items": [
            {"sku": "p1", "quantity": 2, "price": 10.1},
            {"sku": "p2", "quantity": 1, "price": 5.0},
            {"sku": "p1", "quantity": 1, "price": 3.33},
        ],
        "total": 19.98,
        "line_count": 3,
        "cheapest": 3.33,
        "dearest": 10.1,
        "skus": ["p1", "p2"],
        "currency": "BRL",
        "promised_by": "2018-01-21T01:59:59.999999Z",
    }
    for event in events:
        validate_event(event)


def test_second_format_absent_values_and_empty_join(tmp_path: Path, jsonl: JsonLines) -> None:
    _, events, _ = run(tmp_path, jsonl)
    created = next(e for e in events if e["id"] == "shop:A2:created")
    assert created["time"] == "2018-07-15T12:15:00Z"  # winter: UTC-3
    # no lines: each gives [], count 0, and sum/min/max/distinct are left out
    assert created["data"] == {
        "order_id": "A2",
        "customer_id": "c2",
        "rush": False,
        "address": {"postcode": "22041", "city": "rio de janeiro"},
        "items": [],
        "line_count": 0,
        "currency": "BRL",
        "promised_by": "2018-07-21T02:59:59.999999Z",
    }
    assert "shop:A2:paid" not in {e["id"] for e in events}  # no approval time: not paid yet


def test_sorted_by_time(tmp_path: Path, jsonl: JsonLines) -> None:
    orders = "order,customer,rush,placed,paid,promised,amount\n" + "".join(
        f"B{n},c1,no,2018-03-{day:02} 08:00:00,2018-03-{day:02} 09:00:00,,1\n"
        for n, day in enumerate([9, 3, 7, 1])
    )
    _, events, _ = run(tmp_path, jsonl, orders=orders)
    assert [e["id"] for e in events[:3]] == ["shop:B3:created", "shop:B3:paid", "shop:B1:created"]
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)


def test_parameters_default_and_override(tmp_path: Path, jsonl: JsonLines) -> None:
    _, events, _ = run(tmp_path, jsonl, params={"markup": "1.5", "currency": "USD"})
    paid = next(e for e in events if e["type"] == "order.paid")
    assert paid["data"]["amount"] == 45.75
    assert {e["data"].get("currency") for e in events if e["type"] == "order.created"} == {"USD"}
    with pytest.raises(ImportMappingError, match="unknown parameter 'markdown'"):
        load_mapping(tmp_path / "map.yaml", {"markdown": "2"})
    with pytest.raises(ImportMappingError, match="markup"):
        load_mapping(tmp_path / "map.yaml", {"markup": "lots"})


def test_rejects_name_file_line_and_reason(tmp_path: Path, jsonl: JsonLines) -> None:
    orders = (
        "order,customer,rush,placed,paid,promised,amount,note\n"
        'A1,c1,yes,2018-01-15 10:00:00,,2018-01-20 00:00:00,30.5,"two\nlines"\n'  # lines 2-3
        "A3,c1,no,2018-02-30 10:00:00,,,,\n"  # line 4: impossible date
        "A4,c1,maybe,2018-01-15 10:00:00,,,,\n"  # line 5: not a boolean
        "A5,c1,no,2018-01-15 10:00:00,2018-01-15 11:00:00,,ten,\n"  # line 6: not a number
        "A6,c1,no\n"  # line 7: short row
        "A1,c2,no,2018-01-16 10:00:00,,,,\n"  # line 8: same event id as line 2
    )
    lines = LINES + "ZZ,p1,1,1,1\n"  # line 5: no such order
    report, events, rejects = run(tmp_path, jsonl, orders=orders, lines=lines)
    found = {(Path(r["file"]).name, r["line"]): r for r in rejects}
    assert {key: r["reason"] for key, r in found.items()} == {
        ("orders.csv", 4): "bad-timestamp",
        ("orders.csv", 5): "bad-bool",
        ("orders.csv", 6): "bad-number",
        ("orders.csv", 7): "bad-row",
        ("orders.csv", 8): "duplicate-id",
        ("lines.csv", 5): "orphan",
    }
    assert "day is out of range" in found["orders.csv", 4]["detail"]
    assert "'ten' is not a number" in found["orders.csv", 6]["detail"]
    assert found["orders.csv", 4]["row"]["placed"] == "2018-02-30 10:00:00"  # the raw row
    assert found["orders.csv", 7]["row"] == ["A6", "c1", "no"]
    assert report.rows_read == 6
    assert report.rejects == {
        "bad-bool": 1,
        "bad-number": 1,
        "bad-row": 1,
        "bad-timestamp": 1,
        "duplicate-id": 1,
        "orphan": 1,
    }
    assert [e["id"] for e in events] == ["shop:A1:created"]


def test_reject_in_a_joined_row_names_its_line(tmp_path: Path, jsonl: JsonLines) -> None:
    _, events, rejects = run(tmp_path, jsonl, lines=LINES + "A2,p9,one,1,1\n")
    assert [(r["line"], r["reason"]) for r in rejects] == [(3, "bad-number")]
    assert rejects[0]["detail"].endswith("lines.csv:5)")
    assert {e["id"] for e in events} == {"shop:A1:created", "shop:A1:paid"}


def test_required_values_and_joins(tmp_path: Path, jsonl: JsonLines) -> None:
    required_value = SHOP.replace(
        "customer_id: customer\n", "customer_id: {column: customer, required: true}\n"
    )
    required_join = required_value.replace("key: id}", "key: id, required: true}")
    orders = (
        "order,customer,rush,placed,paid,promised,amount\n"
        "A1,c404,no,2018-01-15 10:00:00,,,\n"
        "A2,,no,2018-01-15 10:00:00,,,\n"
    )
    _, events, rejects = run(tmp_path, jsonl, required_join, orders=orders)
    assert events == []
    assert [(r["line"], r["reason"]) for r in rejects if r["file"].endswith("orders.csv")] == [
        (2, "join-miss"),
        (3, "join-miss"),
    ]
    _, _, rejects = run(tmp_path, jsonl, required_value, orders=orders)
    assert [(r["line"], r["reason"]) for r in rejects if r["file"].endswith("orders.csv")] == [
        (3, "missing-value")
    ]


def test_month_end_and_templates(tmp_path: Path, jsonl: JsonLines) -> None:
    mapping = """\
rows: stock.csv
timezone: Africa/Abidjan
derive:
  mm: {column: month, pad: 2}
  period: {template: "{year}-{mm}"}
events:
  - type: stock.level
    id: "s:{site}:{period}"
    source: stock
    time: {column: period, type: month-end, format: "%Y-%m"}
    data: {sku: sku, warehouse: site, on_hand: {column: end, type: int}, month: period}
"""
    stock = "year,month,site,sku,end\n2017,12,S1,P1,4\n2018,3,S1,P1,0\n"
    _, events, _ = run(tmp_path, jsonl, mapping, stock=stock)
    assert [(e["id"], e["time"], e["data"]["month"]) for e in events] == [
        ("s:S1:2017-12", "2018-01-01T00:00:00Z", "2017-12"),
        ("s:S1:2018-03", "2018-04-01T00:00:00Z", "2018-03"),
    ]


MINIMAL = """\
rows: orders.csv
events:
  - type: order.created
    id: "x:{order}"
    source: shop
    time: placed
    data:
      order_id: order
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("rows:", "rowz:", 1, "unknown key"),
        ("type: order.created", "type: order.shipped", 3, "unknown event type"),
        ("order_id: order", "order_id: {column: order, type: decimal}", 8, "unknown type"),
        ("order_id: order", "order_id: {column: order, round: 2}", 8, "round"),
        ("order_id: order", "order_id: {column: order, const: 1}", 8, "one source"),
        ("order_id: order", "order_id: {param: nope}", 8, "unknown parameter"),
        ("order_id: order", 'order_id: {expr: "1 +"}', 8, "invalid expression"),
        ('id: "x:{order}"', 'id: "x:{order"', 4, "bad template"),
        ("time: placed", "time: {column: placed, type: int}", 6, "time must be"),
        ("    source: shop\n", "", 3, "missing source"),
        ("      order_id: order", "      - order_id", 7, "expected a mapping"),
        ("order_id: order", "order_id: [order", 9, "not valid YAML"),
        ("order_id: order", "order_id: order\n      order_id: order", 9, "not valid YAML"),
    ],
)
def test_invalid_mapping_is_refused_with_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = tmp_path / "broken.yaml"
    assert old in MINIMAL
    path.write_text(MINIMAL.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ImportMappingError, match=message) as caught:
        load_mapping(path)
    assert str(caught.value).startswith(f"{path}:{line}:")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("order_id: order", "order_id: ordr", 8, "unknown column 'ordr'"),
        ('id: "x:{order}"', 'id: "x:{customer.id}"', 4, "unknown column 'customer.id'"),
        ("order_id: order", 'order_id: {expr: "order ~ nope"}', 8, "unknown name"),
    ],
)
def test_unknown_columns_are_refused_before_any_row(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MINIMAL.replace(old, new, 1), encoding="utf-8")
    (tmp_path / "orders.csv").write_text("order,placed\nA1,2018-01-01T00:00:00\n")
    with pytest.raises(ImportMappingError, match=message) as caught:
        run_import(load_mapping(path), tmp_path, tmp_path / "out.jsonl")
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert not (tmp_path / "out.jsonl").exists()
