"""``PipelineMetrics`` and ``TicketMetrics`` over a real replay of a small events file: every
counter equals what the file contains, and the ticket gauges equal the store, also when read
by a fresh registry after the run (a restart)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import orjson
import pytest
import redis
from prometheus_client import CollectorRegistry

from monitor import (
    DEFAULT_POLICY,
    PipelineMetrics,
    RawRecord,
    RedisTicketStore,
    RunStats,
    TicketMetrics,
)
from monitor._ticket_work import acknowledge, resolve
from streams import replay

from ..monitor.helpers import at, event
from ..streams.test_replay import _runtime


def _stock(hours: float, sku: str, on_hand: int) -> dict[str, object]:
    return event("stock.level", hours, sku=sku, warehouse="W", on_hand=on_hand, safety_threshold=5)


def _write_events(path: Path) -> None:
    """Stock at W (safety threshold 5) and one paid order, in file order:

    - A: out (h0), restocked (h2), out again (h4), restocked (h5): stock.out opened, reopened
      and resolved twice (2 h, then 1 h), its acknowledge SLA (30 min) warned and breached
      twice;
    - B: low (h1, h3): stock.below-safety opened, updated, both SLAs warned and breached,
      escalated to P1 at h73, still open at the end;
    - O1 paid (h0.5, late: after B's h1), never handed over: fulfilment.not-handed-over opens
      at h168.5, both SLAs warned and breached by h200;
    - C plentiful (h1.5, late), D plentiful (h200): no rule, they move time on;
    - a repeat of B's first line (duplicate) and two broken lines (dead letters).
    """
    first_b = _stock(1, "B", 2)
    documents = [
        _stock(0, "A", 0),
        first_b,
        event("order.paid", 0.5, order_id="O1"),
        _stock(2, "A", 9),
        _stock(3, "B", 1),
        _stock(4, "A", 0),
        _stock(5, "A", 9),
        _stock(1.5, "C", 50),
        _stock(200, "D", 50),
    ]
    lines = [orjson.dumps(document) for document in documents]
    lines[2:2] = [
        b"{not json",
        orjson.dumps(first_b),
        orjson.dumps(event("stock.teleported", 1, sku="A")),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    _write_events(path)
    return path


def _replay(client: redis.Redis, prefix: str, path: Path) -> tuple[CollectorRegistry, RunStats]:
    """A replay of ``path`` observed by the metrics on a fresh registry."""
    runtime = _runtime(client, prefix, path.parent / "data")
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    registry.register(TicketMetrics(runtime.tickets))
    stats = replay(runtime.pipeline(observers=[metrics]), [str(path)], batch_size=3, progress=False)
    return registry, stats


def test_counters_equal_what_the_file_contains(
    events: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    registry, _ = _replay(*any_redis, events)
    expected = {
        ("riskmon_records_read_total", ()): 12,
        ("riskmon_events_processed_total", (("type", "stock.level"), ("source", "test"))): 8,
        ("riskmon_events_processed_total", (("type", "order.paid"), ("source", "test"))): 1,
        ("riskmon_events_duplicate_total", ()): 1,
        ("riskmon_events_late_total", ()): 2,
        ("riskmon_dead_letters_total", (("reason", "malformed-json"),)): 1,
        ("riskmon_dead_letters_total", (("reason", "unknown-type"),)): 1,
        ("riskmon_batch_duration_seconds_count", ()): 4,
    }
    for (name, labels), value in expected.items():
        assert _value(registry, name, **dict(labels)) == value, (name, labels)
    matches = {
        ("stock.out", "P1"): 2,
        ("stock.below-safety", "P2"): 2,
        ("fulfilment.not-handed-over", "P2"): 1,
    }
    assert _samples(registry, "riskmon_rule_matches_total", "rule", "severity") == matches
    changes = {
        ("stock.out", "P1", "opened"): 1,
        ("stock.out", "P1", "sla-warning"): 2,
        ("stock.out", "P1", "breached"): 2,
        ("stock.out", "P1", "resolved"): 2,
        ("stock.out", "P1", "reopened"): 1,
        ("stock.below-safety", "P2", "opened"): 1,
        ("stock.below-safety", "P2", "updated"): 1,
        ("stock.below-safety", "P2", "sla-warning"): 2,
        ("stock.below-safety", "P2", "breached"): 2,
        ("stock.below-safety", "P1", "escalated"): 1,
        ("fulfilment.not-handed-over", "P2", "opened"): 1,
        ("fulfilment.not-handed-over", "P2", "sla-warning"): 2,
        ("fulfilment.not-handed-over", "P2", "breached"): 2,
    }
    labels = ("rule", "severity", "change")
    assert _samples(registry, "riskmon_ticket_changes_total", *labels) == changes
    resolution = "riskmon_ticket_resolution_seconds"
    assert _value(registry, f"{resolution}_count", severity="P1") == 2
    assert _value(registry, f"{resolution}_sum", severity="P1") == 3 * 3600  # 2 h + 1 h
    assert _value(registry, f"{resolution}_bucket", severity="P1", le="3600.0") == 1


def _samples(registry: CollectorRegistry, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    return {
        tuple(sample.labels[label] for label in labels): sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    }


OPEN = {
    ("P1", "inventory"): 1,  # B, escalated
    ("P2", "fulfilment"): 1,  # O1
}


def test_ticket_gauges_are_read_from_the_store_also_after_a_restart(
    events: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    registries = [_replay(client, prefix, events)[0], CollectorRegistry()]
    registries[1].register(TicketMetrics(RedisTicketStore(client, prefix, DEFAULT_POLICY)))
    for registry in registries:
        opened = _samples(registry, "riskmon_open_tickets", "severity", "team")
        assert {labels: value for labels, value in opened.items() if value} == OPEN
        assert len(opened) == 4 * 2  # every severity, for each team with tickets
        breached = _samples(registry, "riskmon_open_tickets_sla_breached", "severity", "kind")
        expected = {(s, kind): 1 for s in ("P1", "P2") for kind in ("acknowledge", "resolve")}
        assert {labels: value for labels, value in breached.items() if value} == expected
        assert len(breached) == 4 * 2
        assert _value(registry, "riskmon_stock_keys_below_safety") == 1  # B
        assert _value(registry, "riskmon_stock_keys_out") == 0  # A restocked
        assert _value(registry, "riskmon_shipments_stalled") == 0


def test_watermark_gauges(events: Path, any_redis: tuple[redis.Redis, str]) -> None:
    idle = CollectorRegistry()
    PipelineMetrics(idle)
    assert math.isnan(_value(idle, "riskmon_watermark_timestamp_seconds") or 0.0)
    assert math.isnan(_value(idle, "riskmon_watermark_lag_seconds") or 0.0)
    registry, _ = _replay(*any_redis, events)
    assert _value(registry, "riskmon_watermark_timestamp_seconds") == at(200)
    lag = _value(registry, "riskmon_watermark_lag_seconds")
    assert lag == pytest.approx(time.time() - at(200), abs=60)


def test_a_second_replay_counts_duplicates_and_changes_nothing(
    events: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    _replay(client, prefix, events)
    registry, stats = _replay(client, prefix, events)
    assert _value(registry, "riskmon_records_read_total") == 12
    assert _value(registry, "riskmon_events_duplicate_total") == 10 == stats.duplicates
    assert _samples(registry, "riskmon_events_processed_total", "type") == {}
    assert _samples(registry, "riskmon_ticket_changes_total", "change") == {}
    assert _value(registry, "riskmon_dead_letters_total", reason="unknown-type") == 1
    assert _value(registry, "riskmon_open_tickets", severity="P1", team="inventory") == 1


def test_time_to_acknowledge_is_read_from_the_store(
    events: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    """B (stock.below-safety, opened h1 at P2, escalated to P1 at h73) acknowledged at h1.5;
    O1 (fulfilment.not-handed-over, opened h168.5 at P2) resolved by a person at h171.5,
    which acknowledges it: two P2 observations, 0.5 h and 3 h."""
    client, prefix = any_redis
    registry, _ = _replay(client, prefix, events)
    store = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    ids = {ticket.rule: ticket.id for ticket in store.all()}
    store.update(ids["stock.below-safety"], lambda t: acknowledge(t, by="ann", at=at(1.5)))
    store.update(ids["fulfilment.not-handed-over"], lambda t: resolve(t, by="bo", at=at(171.5)))
    fresh = CollectorRegistry()
    fresh.register(TicketMetrics(RedisTicketStore(client, prefix, DEFAULT_POLICY)))
    name = "riskmon_ticket_acknowledge_seconds"
    for scraped in (registry, fresh):
        assert _samples(scraped, f"{name}_count", "severity") == {
            ("P0",): 0,
            ("P1",): 0,
            ("P2",): 2,
            ("P3",): 0,
        }
        assert _value(scraped, f"{name}_sum", severity="P2") == 0.5 * 3600 + 3 * 3600
        assert _value(scraped, f"{name}_bucket", severity="P2", le="1800.0") == 1
        assert _value(scraped, f"{name}_bucket", severity="P2", le="7200.0") == 1
        assert _value(scraped, f"{name}_bucket", severity="P2", le="14400.0") == 2
        assert _value(scraped, f"{name}_bucket", severity="P2", le="+Inf") == 2


def test_a_workers_copies_of_events_count_once_and_never_below_zero(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    """A keyed partition also gets copies of events counted at their home partition (not
    observed here): they are neither processed nor duplicate events in its figures."""
    runtime = _runtime(*any_redis, tmp_path / "data")
    registry = CollectorRegistry()
    pipeline = runtime.pipeline(observers=[PipelineMetrics(registry)])
    stock = {"warehouse": "W", "on_hand": 1, "safety_threshold": 5}
    lines = [orjson.dumps(event("stock.level", n, sku=f"S{n}", **stock)) for n in range(4)]
    copies = [RawRecord(line, f"stock/0@{n}", observed=False) for n, line in enumerate(lines)]
    pipeline.process(copies[:3])  # events counted at their home partitions
    pipeline.process([copies[1], RawRecord(lines[3], "stock/0@3")])  # one again, one at home
    assert _value(registry, "riskmon_records_read_total") == 1
    assert _value(registry, "riskmon_events_duplicate_total") == 0
    processed = ("riskmon_events_processed_total", "type", "source")
    assert _samples(registry, *processed) == {("stock.level", "test"): 1}
