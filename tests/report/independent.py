"""The raw CSV files read with plain Python, not the product's code: what events the exports
make and when, what each shipped rule finds, and the tickets it opens, escalates, lets breach
and resolves, restated directly on the rows (``expected.py`` counts them per period).

The exports become events as the importer's presets say: an Olist order is placed
(``order.created``, channel ``olist``), approved (``order.paid``), handed to a carrier
(``shipment.created``) and delivered (``shipment.delivered``), each at that local time in
São Paulo; a stock record is one ``stock.level`` reading at the first instant of the next
month (UTC), with a safety threshold of ``SAFETY_MONTHS`` × its average monthly consumption.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..e2e.independent import SAO_PAULO, _bad_address

HOUR, DAY = 3600.0, 86400.0
SAFETY_MONTHS = 3
SEVERITIES = ("P0", "P1", "P2", "P3")
SLA = {"P0": (0.25, 2), "P1": (0.5, 4), "P2": (2, 24), "P3": (8, 72)}  # hours: ack, resolve
RULES = (
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
)
ABSENCE = "fulfilment.not-handed-over"


@dataclass
class Episode:
    """A stretch of one ticket from (re)opening to resolution, with its one escalation step."""

    rule: str
    start: float
    severity: str
    end: float | None = None
    reopened: bool = False
    escalation: tuple[float, str] | None = None  # (after, to)
    acknowledged: float | None = None  # when a person acknowledged it (set by the test)

    def fired(self, due: float, last: float) -> bool:
        """Whether a timer due then went off: before the resolution, or before the data ran
        out for an open ticket (timers go off when a later event arrives)."""
        return due < (self.end if self.end is not None else last)

    def severity_before(self, moment: float, last: float) -> str:
        if self.escalation is not None:
            due = self.start + self.escalation[0]
            if self.fired(due, last) and due < moment:
                return self.escalation[1]
        return self.severity

    def breach(self, kind: int, last: float) -> float | None:
        due = self.start + SLA[self.severity][kind] * HOUR
        return due if self.fired(due, last) else None


@dataclass
class World:
    events: list[tuple[float, str, str, str]] = field(default_factory=list)  # at type src chan
    measures: list[tuple[float, str]] = field(default_factory=list)
    findings: list[tuple[float, str, str, str]] = field(default_factory=list)  # at rule src ch
    readings: list[tuple[float, str, str, float, float, float]] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    last: float = 0.0  # the newest event time


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _local(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SAO_PAULO).timestamp()


def load(olist: Path, stock: Path) -> World:
    world = World()
    _olist(world, olist)
    _stock(world, stock)
    world.last = max(at for at, *_ in world.events)
    # an absence ticket opens when its timer goes off: when a later event arrives
    world.episodes = [e for e in world.episodes if e.start < world.last or e.rule != ABSENCE]
    world.findings = [f for f in world.findings if f[0] < world.last or f[1] != ABSENCE]
    return world


def _olist(world: World, folder: Path) -> None:
    customers = {row["customer_id"]: row for row in _rows(folder / "olist_customers_dataset.csv")}
    items: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(folder / "olist_order_items_dataset.csv"):
        items[row["order_id"]].append(row)
    baskets: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for order in _rows(folder / "olist_orders_dataset.csv"):
        oid, placed = order["order_id"], _local(order["order_purchase_timestamp"])
        world.events.append((placed, "order.created", "olist", "olist"))
        customer = customers.get(order["customer_id"])
        if customer is None or _bad_address(customer):
            world.findings.append((placed, "order.data-error", "olist", "olist"))
            world.episodes.append(Episode("order.data-error", placed, "P3"))
        if customer is not None and items[oid]:
            total = round(sum(float(i["price"]) + float(i["freight_value"]) for i in items[oid]), 2)
            skus = tuple(sorted(i["product_id"] for i in items[oid]))
            baskets[customer["customer_unique_id"], skus, total].append(placed)
        approved = order["order_approved_at"] and _local(order["order_approved_at"])
        if approved:
            world.events.append((approved, "order.paid", "olist", ""))
        carrier = order["order_delivered_carrier_date"] and _local(
            order["order_delivered_carrier_date"]
        )
        if carrier:
            _handover(world, carrier, [_local(i["shipping_limit_date"]) for i in items[oid]])
        if approved and not (carrier and carrier <= approved + 7 * DAY):
            due = approved + 7 * DAY
            world.findings.append((due, "fulfilment.not-handed-over", "olist", ""))
            episode = Episode("fulfilment.not-handed-over", due, "P2", escalation=(3 * DAY, "P1"))
            episode.end = carrier or None
            world.episodes.append(episode)
        delivered = order["order_delivered_customer_date"]
        if delivered:
            late = delivered[:10] > order["order_estimated_delivery_date"][:10]
            _delivery(world, _local(delivered), late)
    for purchases in baskets.values():
        purchases.sort()
        hits = [later for earlier, later in pairwise(purchases) if later - earlier < 600]
        world.findings += [(at, "order.duplicate", "olist", "olist") for at in hits]
        if hits:
            world.episodes.append(Episode("order.duplicate", hits[0], "P2"))


def _handover(world: World, at: float, limits: list[float]) -> None:
    world.events.append((at, "shipment.created", "olist", ""))
    world.measures.append((at, "handed-over"))
    if limits:
        world.measures.append((at, "handed-over-deadline"))
        if at > min(limits):
            world.measures.append((at, "handed-over-late"))
            world.findings.append((at, "fulfilment.late-handover", "olist", ""))
            world.episodes.append(Episode("fulfilment.late-handover", at, "P3"))


def _delivery(world: World, at: float, late: bool) -> None:
    world.events.append((at, "shipment.delivered", "olist", ""))
    world.measures += [(at, "delivered"), (at, "delivered-promised")]
    if late:
        world.measures.append((at, "delivered-late"))
        world.findings.append((at, "delivery.late", "olist", ""))
        world.episodes.append(Episode("delivery.late", at, "P2"))


def _stock(world: World, path: Path) -> None:
    series: dict[tuple[str, str], list[tuple[float, float, float, float]]] = defaultdict(list)
    for row in _rows(path):
        year, month = int(row["year"]), int(row["month"]) + 1
        at = datetime(year + month // 13, (month - 1) % 12 + 1, 1, tzinfo=UTC).timestamp()
        amc = float(row["average_monthly_consumption"])
        reading = (at, float(row["stock_end"]), amc * SAFETY_MONTHS, amc)
        series[row["site_code"], row["product_code"]].append(reading)
        world.events.append((at, "stock.level", "civ-stock", ""))
        world.readings.append((at, row["site_code"], row["product_code"], *reading[1:]))
    rules = {
        "stock.out": (lambda on_hand, threshold: on_hand <= 0, "P1", (DAY, "P0")),
        "stock.below-safety": (
            lambda on_hand, threshold: 0 < on_hand < threshold,
            "P2",
            (3 * DAY, "P1"),
        ),
    }
    for readings in series.values():
        readings.sort()
        for rule, (condition, severity, escalation) in rules.items():
            open_now: Episode | None = None
            seen = False
            for at, on_hand, threshold, _ in readings:
                if condition(on_hand, threshold):
                    world.findings.append((at, rule, "civ-stock", ""))
                    if open_now is None:
                        open_now = Episode(rule, at, severity, reopened=seen, escalation=escalation)
                        world.episodes.append(open_now)
                        seen = True
                elif open_now is not None:
                    open_now.end, open_now = at, None
    _site_outages(world, series)


def _site_outages(
    world: World, series: dict[tuple[str, str], list[tuple[float, float, float, float]]]
) -> None:
    """Three products or more out at one site's count (one instant) open its ticket, which
    nothing resolves; each out reading past the second is a finding."""
    out_at: dict[str, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    for (site, _), readings in series.items():
        for at, on_hand, *_ in readings:
            out_at[site][at] += on_hand <= 0
    for counts in out_at.values():
        hits = sorted(at for at, n in counts.items() if n >= 3)
        world.findings += [
            (at, "stock.site-outage", "civ-stock", "") for at in hits for _ in range(counts[at] - 2)
        ]
        if hits:
            episode = Episode("stock.site-outage", hits[0], "P1", escalation=(DAY, "P0"))
            world.episodes.append(episode)
