"""The engine gives an occurrence the severity its impact raises it to (rules' ``raise``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor import DEFAULT_POLICY, EVENT_TYPES, Engine, MemoryState, Occurrence, validate_event
from rules import RuleBook, load_rules

from .helpers import T0, Harness, at, event

WINDOW_RULE = """\
rules:
  - id: order.repeat
    description: the same customer orders again and again
    on: [order.created]
    key: data.customer_id
    window: {within: 1h, at_least: 2}
    severity: P2
    raise:
      - when: window.count >= 3
        to: P1
      - when: window.total >= 4 and data.total > 500
        to: P0
    team: sales
    title: "Repeat orders by {{ data.customer_id }}"
"""


def test_a_customs_hold_near_the_promised_date_opens_at_p0_with_p0_clocks() -> None:
    harness = Harness()
    promised = (T0 + timedelta(hours=30)).isoformat()  # less than the rule's two days left
    harness.feed(
        event("shipment.customs", 0, shipment_id="S1", status="held", promised_by=promised),
        event("shipment.customs", 0, shipment_id="S2", status="held"),
    )
    raised, plain = sorted(harness.by_rule("customs.hold"), key=lambda t: t.dedup_key)
    assert (raised.severity, plain.severity) == ("P0", "P1")
    assert raised.acknowledge_due == at(0.25) and plain.acknowledge_due == at(0.5)
    harness.advance(0.3)
    raised, plain = sorted(harness.by_rule("customs.hold"), key=lambda t: t.dedup_key)
    assert raised.breached_acknowledge and not plain.breached_acknowledge


def test_the_window_count_raises_the_occurrences_that_reach_it(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(WINDOW_RULE)
    book = RuleBook(load_rules(path, event_types=EVENT_TYPES))
    engine = Engine(book, MemoryState(), policy=DEFAULT_POLICY)
    severities = []
    for minute, total in enumerate([10, 10, 10, 900]):
        order = event("order.created", minute / 60, order_id=f"O{minute}", customer_id="C")
        order["data"]["total"] = total
        actions = engine.process(validate_event(order))
        severities += [a.severity for a in actions if isinstance(a, Occurrence)]
    assert severities == ["P2", "P1", "P0"]
    book.close()
