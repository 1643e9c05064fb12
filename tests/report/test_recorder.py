"""The recorder: what it keeps per 15-minute UTC bucket while events are processed, read back
as a report's figures; a day in a +05:45 time zone; a replay of the same file changes nothing."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import redis

from monitor import DEFAULT_POLICY, FileDeadLetters, RedisTicketStore, Runtime, Settings
from monitor.report import Aggregates, Report, build_report, daily
from monitor.report._aggregates import Reading
from streams import replay

_ids = itertools.count()
GOOD = {"postcode": "01310-100", "city": "Sao Paulo", "state": "SP", "country": "BR"}
BAD = {"postcode": "9", "city": "Sao Paulo", "state": "SP", "country": "BR"}
RULES = ["stock.out", "customs.hold"]


def ev(kind: str, at: str, source: str = "shop", **data: Any) -> dict[str, Any]:
    return {"id": f"r{next(_ids)}", "source": source, "type": kind, "time": at, "data": data}


# Kathmandu (UTC+05:45): 2024-03-02 starts at 2024-03-01T18:15:00Z.
EVENTS = [
    ev("order.created", "2024-03-01T18:14:59Z", order_id="O1", channel="web", address=BAD),
    ev("order.created", "2024-03-01T18:15:00Z", order_id="O2", channel="app", address=GOOD),
    ev("order.paid", "2024-03-01T18:16:00Z", order_id="O2"),
    ev("stock.level", "2024-03-01T18:16:00Z", "depot", sku="S", warehouse="W", on_hand=0, amc=5),
    ev("stock.level", "2024-03-01T18:20:00Z", "depot", sku="S", warehouse="W", on_hand=10,
       safety_threshold=20, amc=5),
    ev("shipment.delivered", "2024-03-01T18:20:00Z", "dhl", shipment_id="A",
       delivered_at="2024-03-01T18:20:00Z", promised_by="2024-03-01T00:00:00Z"),
    ev("shipment.delivered", "2024-03-01T19:00:00Z", "dhl", shipment_id="B"),
    ev("shipment.created", "2024-03-01T19:00:00Z", "dhl", shipment_id="C",
       handed_over_at="2024-03-01T19:00:00Z", ship_by="2024-03-01T12:00:00Z"),
    ev("shipment.customs", "2024-03-01T20:00:00Z", "dhl", shipment_id="D", status="held"),
    ev("shipment.customs", "2024-03-01T21:00:00Z", "dhl", shipment_id="D", status="released"),
    ev("shipment.scanned", "2024-03-09T00:00:00Z", "dhl", shipment_id="E"),  # moves time on
]  # fmt: skip


def _runtime(client: redis.Redis, prefix: str, folder: Path) -> Runtime:
    settings = Settings(data_dir=folder, redis_prefix=prefix)
    tickets = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    return Runtime(settings, client, tickets, FileDeadLetters(folder / "dead-letters.jsonl"))


def _report(runtime: Runtime, prefix: str, day: date, zone: str = "Asia/Kathmandu") -> Report:
    aggregates = Aggregates(runtime.client, prefix)
    return build_report(
        daily(day, zone), aggregates=aggregates, tickets=runtime.tickets, rules=RULES
    )


def _replay(runtime: Runtime, path: Path, documents: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in documents))
    replay(runtime.pipeline(), [str(path)], batch_size=3, progress=False)


def test_figures_per_local_day_from_quarter_hours(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    runtime = _runtime(client, prefix, tmp_path)
    _replay(runtime, tmp_path / "events.jsonl", EVENTS)
    report = _report(runtime, prefix, date(2024, 3, 2))
    f = report.figures
    assert report.complete and report.data_through == "2024-03-09T05:45:00+05:45"
    assert f.events.total == 9 and report.previous["events"] == 1
    assert [(q.source, q.channel, q.errors.whole, q.errors.part) for q in f.order_quality.rows] == [
        ("shop", "app", 1, 0)
    ]
    before = _report(runtime, prefix, date(2024, 3, 1)).figures.order_quality.rows
    assert [(q.channel, q.errors.whole, q.errors.part) for q in before] == [("web", 1, 1)]
    assert (f.fulfilment.delivered, f.fulfilment.handed_over) == (2, 1)
    assert (f.fulfilment.delivered_late.part, f.fulfilment.delivered_late.whole) == (1, 1)
    assert (f.fulfilment.handed_over_late.part, f.fulfilment.handed_over_late.whole) == (1, 1)
    assert (f.customs.held, f.customs.released) == (1, 1)
    assert [(t.rule, t.opened, t.resolved, t.open_at_end) for t in f.customs.tickets] == [
        ("customs.hold", 1, 1, 0)
    ]
    stock = f.stock
    assert (stock.readings, stock.pairs, stock.stocked_out.part, stock.below_safety.part) == (
        2, 1, 0, 1,
    )  # fmt: skip
    assert stock.months_of_stock_median == 2.0 and ("1 to 3", 1) in stock.months_of_stock
    assert [(t.rule, t.opened, t.resolved) for t in stock.tickets] == [
        ("stock.out", 1, 1),
        ("stock.below-safety", 1, 0),
    ]
    assert f.timeline.labels[:2] == ["00:00", "01:00"]
    assert f.timeline.series["order"][0] == 2 and sum(f.timeline.series["stock"]) == 2
    assert f.rule_health.never_fired == []

    # the paid order never handed over: its finding comes from a timer, a week later
    week_later = _report(runtime, prefix, date(2024, 3, 8), "UTC").figures
    assert [(r.rule, r.findings) for r in week_later.top_rules] == [
        ("fulfilment.not-handed-over", 1)
    ]
    assert week_later.top_sources[0].source == "shop"


def test_replaying_the_same_file_changes_no_figure(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    runtime = _runtime(client, prefix, tmp_path)
    path = tmp_path / "events.jsonl"
    _replay(runtime, path, EVENTS)
    first = asdict(_report(runtime, prefix, date(2024, 3, 2)))
    _replay(runtime, path, EVENTS)
    again = asdict(_report(runtime, prefix, date(2024, 3, 2)))
    assert {**again, "generated_at": ""} == {**first, "generated_at": ""}
    _replay(runtime, path, [*EVENTS, ev("order.created", "2024-03-01T23:00:00Z", order_id="O3")])
    assert _report(runtime, prefix, date(2024, 3, 2)).headline["orders"] == 2


def test_the_newest_reading_wins_whatever_the_order(any_redis: tuple[redis.Redis, str]) -> None:
    client, prefix = any_redis
    aggregates = Aggregates(client, prefix)
    newer = Reading(1000.0, "W", "S", 5, None, None)
    older = Reading(990.0, "W", "S", 0, None, None)
    aggregates.write(Counter(), [newer], 1000.0)
    aggregates.write(Counter(), [older], 1000.0)
    assert aggregates.readings(900, 1800) == [newer]
    assert aggregates.readings(0, 900) == [] and aggregates.watermark() == 1000.0
