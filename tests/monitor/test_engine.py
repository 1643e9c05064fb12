"""The engine on event time: absence timers, windows, escalation, SLA, resolve, reopen."""

from __future__ import annotations

from pathlib import Path

from monitor import DEFAULT_POLICY, EVENT_TYPES, Engine, MemoryState, Occurrence, validate_event
from rules import RuleBook

from .helpers import Harness, at, event


def test_absence_fires_on_event_time_not_wall_time() -> None:
    harness = Harness()
    harness.feed(event("order.paid", 0, order_id="O1"))
    harness.advance(7 * 24)
    assert harness.by_rule("fulfilment.not-handed-over") == []  # due, but not yet past due
    harness.feed(event("order.paid", 7 * 24 + 1, order_id="O2"))
    (ticket,) = harness.by_rule("fulfilment.not-handed-over")
    assert ticket.dedup_key == "O1"
    assert ticket.first_seen == at(7 * 24)
    harness.feed(event("shipment.created", 8 * 24, shipment_id="O1", order_id="O1"))
    (ticket,) = harness.by_rule("fulfilment.not-handed-over")
    assert ticket.status == "resolved"


def test_awaited_event_before_the_start_means_no_timer() -> None:
    harness = Harness()
    harness.feed(
        event("shipment.created", 0, shipment_id="O1", order_id="O1"),
        event("order.paid", 1, order_id="O1"),
    )
    harness.advance(30 * 24)
    assert harness.by_rule("fulfilment.not-handed-over") == []


def test_each_scan_restarts_the_no_scan_clock() -> None:
    harness = Harness()
    parcel = {"shipment_id": "S1", "tracking_no": "T1", "carrier": "DHL"}
    harness.feed(event("shipment.created", 0, **parcel))
    for hour in (20, 40, 60):
        harness.feed(event("shipment.scanned", hour, **parcel))
    harness.advance(60 + 23)
    assert harness.by_rule("logistics.no-scan-24h") == []
    harness.advance(60 + 25)
    (ticket,) = harness.by_rule("logistics.no-scan-24h")
    assert ticket.title == "No carrier scan for 24h: DHL T1"
    assert ticket.first_seen == at(84)
    harness.feed(event("shipment.scanned", 90, **parcel))
    assert harness.by_rule("logistics.no-scan-24h")[0].status == "resolved"


def test_sla_breach_and_escalation_follow_the_watermark() -> None:
    harness = Harness()
    harness.feed(event("stock.level", 0, sku="S", warehouse="W", on_hand=0, safety_threshold=5))
    harness.advance(0.4)
    (ticket,) = harness.by_rule("stock.out")
    assert not ticket.breached_acknowledge
    harness.advance(5)
    (ticket,) = harness.by_rule("stock.out")
    assert ticket.breached_acknowledge and ticket.breached_resolve
    assert ticket.acknowledge_due == at(0.5) and ticket.resolve_due == at(4)
    assert ticket.severity == "P1"
    harness.advance(25)
    (ticket,) = harness.by_rule("stock.out")
    assert ticket.severity == "P0"
    assert [c.action for c in ticket.history] == [
        "opened",
        "sla-warning",
        "sla-breached",
        "sla-warning",
        "sla-breached",
        "escalated",
    ]


def test_resolved_ticket_cancels_its_timers_and_reopens_on_recurrence() -> None:
    harness = Harness()
    stock = {"sku": "S", "warehouse": "W", "safety_threshold": 5}
    harness.feed(
        event("stock.level", 0, on_hand=0, **stock), event("stock.level", 0.2, on_hand=9, **stock)
    )
    harness.advance(48)
    (ticket,) = harness.by_rule("stock.out")
    assert (
        ticket.status == "resolved" and ticket.severity == "P1" and not ticket.breached_acknowledge
    )
    harness.feed(event("stock.level", 50, on_hand=0, **stock))
    (ticket,) = harness.by_rule("stock.out")
    assert ticket.status == "reopened" and ticket.occurrences == 2
    assert ticket.acknowledge_due == at(50.5)


def test_duplicate_window_slides_with_event_time() -> None:
    harness = Harness()
    basket = {"customer_id": "C", "total": 10.0, "items": [{"sku": "A", "price": 10.0}]}
    harness.feed(
        event("order.created", 0, order_id="O1", **basket),
        event("order.created", 0.2, order_id="O2", **basket),  # 12 min later: no
        event("order.created", 0.3, order_id="O3", **basket),  # 6 min after O2: yes
        event("order.created", 0.35, order_id="O4", **basket),  # 3 min after O3: again
    )
    (ticket,) = harness.by_rule("order.duplicate")
    assert ticket.occurrences == 2
    assert ticket.first_seen == at(0.3)
    assert ticket.title == "Possible duplicate order O3 by customer C"


def test_an_event_that_breaks_two_rules_opens_two_tickets() -> None:
    harness = Harness()
    order = {
        "customer_id": "C",
        "total": 5.0,
        "items": [{"sku": "A"}],
        "address": {"postcode": "1"},
    }
    harness.feed(event("order.created", 0, order_id="O1", **order))
    harness.feed(event("order.created", 0.05, order_id="O2", **order))
    assert {t.dedup_key for t in harness.by_rule("order.data-error")} == {"O1", "O2"}
    assert len(harness.by_rule("order.duplicate")) == 1


def test_an_event_without_its_key_fields_raises_no_ticket() -> None:
    harness = Harness()
    harness.feed(event("stock.level", 0, sku="S", warehouse="W", on_hand=0))
    harness.feed(event("order.created", 0, order_id="O1", total=5.0, items=[{"sku": "A"}]))
    harness.feed(event("order.created", 0.01, order_id="O2", total=5.0, items=[{"sku": "A"}]))
    assert harness.by_rule("stock.out")
    assert harness.by_rule("order.duplicate") == []


def test_replay_gives_the_expected_tickets() -> None:
    harness = Harness()
    hours = range(0, 200, 7)
    for hour in hours:
        harness.feed(event("order.paid", hour, order_id=f"O{hour}"))
        if hour % 2:
            handover = event(
                "shipment.created", hour + 30, shipment_id=f"O{hour}", order_id=f"O{hour}"
            )
            harness.feed(handover)
    last = max(hours[-1], max(h + 30 for h in hours if h % 2))
    expected = {f"O{h}" for h in hours if h % 2 == 0 and h + 7 * 24 < last}
    found = {t.dedup_key for t in harness.by_rule("fulfilment.not-handed-over")}
    assert found == expected and expected


def test_same_id_from_two_sources_is_two_events() -> None:
    harness = Harness()
    stock = {"sku": "S", "warehouse": "W", "on_hand": 0, "safety_threshold": 5}
    harness.feed(event("stock.level", 0, **stock) | {"id": "42", "source": "wms"})
    harness.feed(event("stock.level", 1, **stock) | {"id": "42", "source": "erp"})
    (ticket,) = harness.by_rule("stock.out")
    assert ticket.occurrences == 2


def test_a_late_reading_does_not_undo_a_newer_one() -> None:
    harness = Harness()
    stock = {"sku": "S", "warehouse": "W", "safety_threshold": 5}
    harness.feed(event("stock.level", 5, on_hand=0, **stock))
    harness.feed(event("stock.level", 1, on_hand=50, **stock))  # older restock, arriving late
    (ticket,) = harness.by_rule("stock.out")
    assert ticket.status == "open"


def test_a_late_order_outside_the_window_is_no_duplicate() -> None:
    harness = Harness()
    basket = {"customer_id": "C", "total": 10.0, "items": [{"sku": "A"}]}
    harness.feed(event("order.created", 2, order_id="O1", **basket))
    harness.feed(event("order.created", 0, order_id="O2", **basket))
    assert harness.by_rule("order.duplicate") == []


def test_a_reading_without_the_threshold_does_not_clear_low_stock() -> None:
    harness = Harness()
    harness.feed(event("stock.level", 0, sku="S", warehouse="W", on_hand=2, safety_threshold=5))
    harness.feed(event("stock.level", 1, sku="S", warehouse="W", on_hand=3))
    (ticket,) = harness.by_rule("stock.below-safety")
    assert ticket.status == "open"


def test_a_rule_reload_takes_effect_on_the_next_event(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(limit=5))
    book = RuleBook.load(path, event_types=EVENT_TYPES)
    engine = Engine(book, MemoryState(), policy=DEFAULT_POLICY)
    stock = {"sku": "S", "warehouse": "W", "on_hand": 7}
    assert engine.process(validate_event(event("stock.level", 0, **stock))) == []
    path.write_text(PACK.format(limit=10))
    book.reload()
    (occurrence, *_) = engine.process(validate_event(event("stock.level", 1, **stock)))
    assert isinstance(occurrence, Occurrence)
    assert occurrence.rule_set_version == book.current.rules.version


PACK = """\
rules:
  - id: low
    description: low
    on: [stock.level]
    when: data.on_hand < {limit}
    key: data.sku
    severity: P2
    team: t
    title: low
"""


def test_timers_of_a_late_event_fire_at_once() -> None:
    harness = Harness()
    harness.feed(event("order.paid", 1000, order_id="NEW"))
    late = event("stock.level", 0, sku="S", warehouse="W", on_hand=0, safety_threshold=5)
    assert harness.engine.is_late(validate_event(late))
    harness.feed(late)
    (ticket,) = harness.by_rule("stock.out")
    assert ticket.breached_acknowledge and ticket.breached_resolve and ticket.severity == "P0"
