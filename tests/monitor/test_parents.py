"""Parent and child tickets, in the Redis store (the real server) and the memory store alike:
a child is suppressed while its parent ticket is unresolved, and re-evaluated when the parent
opens or resolves; applying the same actions again changes nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis

from monitor import (
    DEFAULT_POLICY,
    Action,
    Engine,
    MemoryState,
    MemoryTicketStore,
    Occurrence,
    RedisTicketStore,
    Resolution,
    Ticket,
    assign,
    ticket_id,
    validate_event,
)
from monitor._ticket_work import resolve
from rules import RuleBook, load_rules

SITE = ("stock.site-outage", "W")
PARENT = ticket_id(*SITE)


def _child(action_id: str, at: float, sku: str) -> Occurrence:
    return Occurrence(
        action_id, "stock.out", f"W|{sku}", at, "P1", "inventory", f"Out {sku}", "wh", "v1", SITE
    )


def _parent(action_id: str, at: float) -> Occurrence:
    return Occurrence(action_id, *SITE, at, "P1", "inventory", "Site outage W", "wh", "v1")


def _parent_resolved(action_id: str, at: float) -> Resolution:
    return Resolution(action_id, *SITE, at, "restocked")


Store = MemoryTicketStore | RedisTicketStore


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "memory":
        return MemoryTicketStore(DEFAULT_POLICY)
    client, prefix = request.getfixturevalue("redis_server")
    return RedisTicketStore(client, prefix, DEFAULT_POLICY)


def _ticket(store: Store, rule: str, key: str) -> Ticket:
    ticket = store.get(ticket_id(rule, key))
    assert ticket is not None
    return ticket


def test_a_child_that_occurs_while_its_parent_is_open_is_suppressed(store: Store) -> None:
    store.apply([_parent("p1", 100.0)])
    changes = store.apply([_child("c1", 200.0, "S1")])
    assert [c.change for c in changes] == ["suppressed"]
    child = _ticket(store, "stock.out", "W|S1")
    assert (child.parent, child.suppressed_by) == (PARENT, PARENT)
    assert [c.action for c in child.history] == ["opened", "suppressed"]
    assert [c.change for c in store.apply([_child("c2", 300.0, "S1")])] == ["updated"]
    assert [t.id for t in store.children(PARENT)] == [child.id]


def test_open_children_are_suppressed_when_their_parent_opens(store: Store) -> None:
    store.apply([_child("c1", 100.0, "S1"), _child("c2", 110.0, "S2")])
    store.apply([Resolution("r2", "stock.out", "W|S2", 150.0, "restocked")])
    changes = store.apply([_parent("p1", 200.0)])
    assert [(c.ticket.dedup_key, c.change) for c in changes] == [
        ("W", "opened"),
        ("W|S1", "suppressed"),
    ]
    assert _ticket(store, "stock.out", "W|S1").suppressed_by == PARENT
    assert _ticket(store, "stock.out", "W|S1").history[-1].at == 200.0
    assert _ticket(store, "stock.out", "W|S2").suppressed_by is None


def test_resolving_the_parent_unsuppresses_the_unresolved_children(store: Store) -> None:
    store.apply([_parent("p1", 100.0), _child("c1", 110.0, "S1"), _child("c2", 120.0, "S2")])
    resolved_child = store.apply([Resolution("r2", "stock.out", "W|S2", 130.0, "restocked")])
    assert resolved_child[0].ticket.suppressed_by is None  # resolving ends the suppression
    changes = store.apply([_parent_resolved("p1#resolve", 200.0)])
    assert [(c.ticket.dedup_key, c.change) for c in changes] == [
        ("W", "resolved"),
        ("W|S1", "unsuppressed"),
    ]
    child = _ticket(store, "stock.out", "W|S1")
    assert child.suppressed_by is None and child.status == "open"
    assert [(c.at, c.by, c.action) for c in child.history[-2:]] == [
        (110.0, "engine", "suppressed"),
        (200.0, "engine", "unsuppressed"),
    ]
    reopened = store.apply([_parent("p2", 300.0)])  # the outage comes back
    assert [(c.ticket.dedup_key, c.change) for c in reopened] == [
        ("W", "reopened"),
        ("W|S1", "suppressed"),
    ]


def test_a_child_reopening_under_an_open_parent_stays_quiet(store: Store) -> None:
    store.apply([_parent("p1", 100.0), _child("c1", 110.0, "S1")])
    store.apply([Resolution("r1", "stock.out", "W|S1", 120.0, "restocked")])
    changes = store.apply([_child("c2", 130.0, "S1")])
    assert [c.change for c in changes] == ["reopened"]  # the engine restarts its clocks
    assert changes[0].ticket.suppressed_by == PARENT
    assert [c.action for c in changes[0].ticket.history][-2:] == ["reopened", "suppressed"]


SEQUENCE: list[list[Action]] = [
    [_child("c1", 100.0, "S1")],
    [_parent("p1", 110.0), _child("c2", 120.0, "S2")],
    [Resolution("r1", "stock.out", "W|S1", 130.0, "restocked"), _child("c3", 140.0, "S3")],
    [_parent_resolved("p1#resolve", 150.0)],
    [_parent("p2", 160.0)],
]


def test_applying_the_same_actions_again_changes_nothing(store: Store) -> None:
    for batch in SEQUENCE:
        store.apply(batch)
    before = list(store.all())
    assert [t.suppressed_by for t in before] == [None, None, PARENT, PARENT]  # S1 resolved
    for batch in SEQUENCE:
        assert store.apply(batch) == []
    assert store.apply([action for batch in SEQUENCE for action in batch]) == []
    assert list(store.all()) == before


def test_one_batch_or_many_give_the_same_tickets(store: Store) -> None:
    for batch in SEQUENCE:
        store.apply(batch)
    together = MemoryTicketStore(DEFAULT_POLICY)
    together.apply([action for batch in SEQUENCE for action in batch])
    assert list(together.all()) == list(store.all())


def test_a_person_resolving_the_parent_unsuppresses_the_children(
    redis_server: tuple[redis.Redis, str],
) -> None:
    store = RedisTicketStore(*redis_server, DEFAULT_POLICY)
    store.apply([_parent("p1", 100.0), _child("c1", 110.0, "S1")])
    done, *children = store.update(
        PARENT, lambda t: resolve(t, by="ana", at=500.0, root_cause="truck", action_taken="sent")
    )
    assert done.ticket.status == "resolved"
    assert [(c.ticket.dedup_key, c.change) for c in children] == [("W|S1", "unsuppressed")]
    child = _ticket(store, "stock.out", "W|S1")
    assert child.suppressed_by is None
    assert (child.history[-1].by, child.history[-1].action) == ("ana", "unsuppressed")


def test_a_child_rule_is_processed_on_its_parents_partition() -> None:
    rules = load_rules()
    for number in range(50):
        data = {"warehouse": f"W{number}", "sku": f"S{number}", "on_hand": 0}
        reading = {"id": "e", "source": "wh", "type": "stock.level", "time": "2024-03-01T00:00:00Z"}
        owners, _ = assign(validate_event({**reading, "data": data}), rules, 16)
        together = [rules_there for rules_there in owners.values() if "stock.out" in rules_there]
        assert together and "stock.site-outage" in together[0]


def test_workers_racing_on_parent_and_child_agree(redis_server: tuple[redis.Redis, str]) -> None:
    """A parent opening and its children occurring at once, in two stores on one Redis (two
    workers): every child ends suppressed, whichever transaction won."""
    client, prefix = redis_server
    children = [_child(f"c{n}", 100.0 + n, f"S{n}") for n in range(40)]
    workers = [
        threading.Thread(
            target=lambda: [
                RedisTicketStore(client, prefix, DEFAULT_POLICY).apply([a]) for a in children
            ]
        ),
        threading.Thread(
            target=lambda: RedisTicketStore(client, prefix, DEFAULT_POLICY).apply(
                [_parent("p1", 120.0)]
            )
        ),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    found = store.children(PARENT)
    assert len(found) == 40
    assert {t.suppressed_by for t in found} == {PARENT}


ABSENT_CHILD = """\
rules:
  - id: carrier.down
    description: a carrier stops scanning
    on: [shipment.exception]
    key: data.carrier
    severity: P1
    team: logistics
    title: "Carrier {{ data.carrier }} down"
  - id: parcel.silent
    description: no scan for a day
    on: [shipment.created]
    key: [data.carrier, data.shipment_id]
    absent: {of: [shipment.scanned], within: 24h}
    severity: P2
    team: logistics
    title: "No scan: {{ data.shipment_id }}"
    explained_by: {rule: carrier.down, key: data.carrier}
"""


def test_an_absence_child_carries_its_parent_from_its_timer(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(ABSENT_CHILD)
    engine = Engine(RuleBook(load_rules(tmp_path)), MemoryState(), policy=DEFAULT_POLICY)
    store = MemoryTicketStore(DEFAULT_POLICY)
    for number, (kind, time) in enumerate(
        [
            ("shipment.created", "2024-03-01T00:00:00Z"),
            ("shipment.exception", "2024-03-01T01:00:00Z"),
        ]
    ):
        document = {"id": f"e{number}", "source": "dhl", "type": kind, "time": time}
        event = validate_event({**document, "data": {"shipment_id": "SH1", "carrier": "DHL"}})
        store.apply(engine.process(event))
    changes = store.apply(engine.advance(engine.watermark + 2 * 86400))
    silent = [c for c in changes if c.ticket.rule == "parcel.silent"]
    assert [c.change for c in silent] == ["suppressed"]
    assert silent[0].ticket.suppressed_by == ticket_id("carrier.down", "DHL")
