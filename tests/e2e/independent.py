"""Ticket counts computed from the raw CSV files with plain Python, not the product's code.

These restate each shipped rule's meaning directly on the exports, so the end-to-end test
can compare the product's tickets with them.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
FORMAT = "%Y-%m-%d %H:%M:%S"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _utc(text: str) -> float:
    return datetime.strptime(text, FORMAT).replace(tzinfo=SAO_PAULO).timestamp()


def olist_expected(folder: Path) -> dict[str, set[str]]:
    """Dedup keys expected per Olist rule."""
    orders = _rows(folder / "olist_orders_dataset.csv")
    customers = {row["customer_id"]: row for row in _rows(folder / "olist_customers_dataset.csv")}
    items: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(folder / "olist_order_items_dataset.csv"):
        items[row["order_id"]].append(row)
    times = [
        _utc(order[column])
        for order in orders
        for column in (
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
        )
        if order[column]
    ]
    last_event = max(times)
    expected: dict[str, set[str]] = defaultdict(set)
    baskets: dict[tuple[str, tuple[str, ...], float], list[float]] = defaultdict(list)
    for order in orders:
        oid = order["order_id"]
        delivered, carrier = (
            order["order_delivered_customer_date"],
            order["order_delivered_carrier_date"],
        )
        approved = order["order_approved_at"]
        promised_day = order["order_estimated_delivery_date"][:10]
        if delivered and delivered[:10] > promised_day:
            expected["delivery.late"].add(oid)
        limits = [item["shipping_limit_date"] for item in items[oid]]
        if carrier and limits and _utc(carrier) > min(_utc(limit) for limit in limits):
            expected["fulfilment.late-handover"].add(oid)
        if approved:
            due = _utc(approved) + timedelta(days=7).total_seconds()
            handed_before = carrier and _utc(carrier) <= due
            if not handed_before and due < last_event:
                expected["fulfilment.not-handed-over"].add(oid)
        customer = customers.get(order["customer_id"])
        if customer is None or _bad_address(customer):
            expected["order.data-error"].add(oid)
        if customer is not None and items[oid]:
            total = round(sum(float(i["price"]) + float(i["freight_value"]) for i in items[oid]), 2)
            skus = tuple(sorted(item["product_id"] for item in items[oid]))
            key = (customer["customer_unique_id"], skus, total)
            baskets[key].append(_utc(order["order_purchase_timestamp"]))
    for key, purchases in baskets.items():
        purchases.sort()
        if any(later - earlier < 600 for earlier, later in pairwise(purchases)):
            expected["order.duplicate"].add(key[0])
    return expected


def _bad_address(customer: dict[str, str]) -> bool:
    postcode = customer["customer_zip_code_prefix"].zfill(5)
    return not (
        re.fullmatch(r"[0-9]{5}(-?[0-9]{3})?", postcode)
        and re.fullmatch(r"[^\d@#$%*_=<>{}|~^]{2,}", customer["customer_city"])
        and re.fullmatch(r"[A-Za-z]{2}|[A-Za-z][A-Za-z .-]+", customer["customer_state"])
    )


def stock_expected(path: Path, safety_months: float) -> dict[str, dict[str, int]]:
    """Per stock rule: tickets (keys that ever matched), occurrences, and tickets suppressed
    at the end (a stock-out still open at a site that had a site outage, which nothing
    resolves)."""
    series: dict[str, list[tuple[tuple[int, int], float, float | None]]] = defaultdict(list)
    out_at: Counter[tuple[str, tuple[int, int]]] = Counter()  # products out per site count
    for row in _rows(path):
        key = f"{row['site_code']}|{row['product_code']}"
        amc = (
            float(row["average_monthly_consumption"])
            if row["average_monthly_consumption"]
            else None
        )
        threshold = amc * safety_months if amc is not None else None
        month = (int(row["year"]), int(row["month"]))
        series[key].append((month, float(row["stock_end"]), threshold))
        out_at[row["site_code"], month] += float(row["stock_end"]) <= 0
    outages = {site for (site, _), n in out_at.items() if n >= 3}
    result = {
        "stock.out": {"tickets": 0, "occurrences": 0, "suppressed": 0},
        "stock.below-safety": {"tickets": 0, "occurrences": 0, "suppressed": 0},
        # the third product out at one count opens it; each further one occurs again
        "stock.site-outage": {
            "tickets": len(outages),
            "occurrences": sum(n - 2 for n in out_at.values() if n >= 3),
            "suppressed": 0,
        },
    }
    for key, records in series.items():
        out = [r for r in records if r[1] <= 0]
        low = [r for r in records if r[2] is not None and 0 < r[1] < r[2]]
        for rule, matched in (("stock.out", out), ("stock.below-safety", low)):
            result[rule]["tickets"] += bool(matched)
            result[rule]["occurrences"] += len(matched)
        still_out = max(records, key=lambda r: r[0])[1] <= 0
        result["stock.out"]["suppressed"] += still_out and key.split("|")[0] in outages
    return result
