"""People working tickets: acknowledge, assign, comment, resolve; the engine carries on."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import redis

from monitor import DEFAULT_POLICY, FileDeadLetters, RedisTicketStore, Runtime, Settings, StoreError
from monitor._ticket_work import TicketWorkError, acknowledge, assign, comment, resolve
from streams import replay

from .helpers import Harness, at, event


def _stock_out() -> Harness:
    harness = Harness()
    harness.feed(event("stock.level", 0, sku="S", warehouse="W", on_hand=0, safety_threshold=5))
    return harness


def test_acknowledging_stops_the_acknowledge_clock() -> None:
    harness = _stock_out()
    (ticket,) = harness.by_rule("stock.out")
    acked = acknowledge(ticket, by="ana", at=at(0.2), note="on it")
    assert acked.status == "acknowledged" and acked.acknowledged_at == at(0.2)
    assert acked.history[-1].by == "ana" and acked.history[-1].detail == "on it"
    with pytest.raises(TicketWorkError, match="only open or reopened tickets"):
        acknowledge(acked, by="bo", at=at(0.3))


def test_assign_and_comment_are_recorded() -> None:
    (ticket,) = _stock_out().by_rule("stock.out")
    ticket = comment(
        assign(ticket, by="ana", at=at(1), to="team-berlin"), by="bo", at=at(2), text="called site"
    )
    assert ticket.assignee == "team-berlin"
    assert [(c.by, c.action, c.detail) for c in ticket.history[-2:]] == [
        ("ana", "assigned", "team-berlin"),
        ("bo", "commented", "called site"),
    ]
    with pytest.raises(TicketWorkError):
        comment(ticket, by="bo", at=at(3), text="  ")


def test_resolving_a_p1_needs_the_post_mortem() -> None:
    (ticket,) = _stock_out().by_rule("stock.out")
    with pytest.raises(TicketWorkError, match="root cause"):
        resolve(ticket, by="ana", at=at(1), root_cause="supplier late")
    done = resolve(
        ticket, by="ana", at=at(1), root_cause="supplier late", action_taken="rush order"
    )
    assert (done.status, done.root_cause, done.action_taken) == (
        "resolved",
        "supplier late",
        "rush order",
    )
    with pytest.raises(TicketWorkError, match="already resolved"):
        resolve(done, by="ana", at=at(2), root_cause="x", action_taken="y")


def test_a_resolved_ticket_reopens_with_fresh_sla_clocks(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    tickets = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    runtime = Runtime(
        Settings(data_dir=tmp_path, redis_prefix=prefix),
        client,
        tickets,
        FileDeadLetters(tmp_path / "dl.jsonl"),
    )
    stock = {"sku": "S", "warehouse": "W", "safety_threshold": 5}
    first = tmp_path / "1.jsonl"
    first.write_bytes(orjson.dumps(event("stock.level", 0, on_hand=0, **stock)) + b"\n")
    replay(runtime.pipeline(), [str(first)], batch_size=10, progress=False)
    (ticket,) = tickets.all()
    tickets.update(
        ticket.id,
        lambda t: resolve(
            t, by="ana", at=at(0.1), root_cause="count error", action_taken="recounted"
        ),
    )
    later = tmp_path / "2.jsonl"
    later.write_bytes(
        orjson.dumps(event("stock.level", 10, on_hand=0, **stock))
        + b"\n"
        + orjson.dumps(event("order.paid", 20, order_id="O"))
        + b"\n"
    )
    replay(runtime.pipeline(), [str(later)], batch_size=1, progress=False)
    reopened = tickets.get(ticket.id)
    assert reopened is not None and reopened.status == "reopened"
    assert reopened.acknowledge_due == at(10.5) and reopened.breached_acknowledge
    actions = [change.action for change in reopened.history]
    assert "sla-breached" in actions[actions.index("reopened") :]  # the clock ran again
    with pytest.raises(StoreError, match="no ticket"):
        tickets.update("T-missing", lambda t: t)
