"""SLA clocks on event time: warning before a breach, the breach, severity raised on breach,
and due times in a team's business hours. Events and the watermark are the clock."""

from __future__ import annotations

import pytest
import redis

from monitor import DEFAULT_POLICY, RedisTicketStore, SeverityPolicy, Ticket
from monitor._calendar import read_calendars
from monitor._ticket_work import acknowledge, resolve

from .helpers import Harness, at, event

STOCK_OUT = {"sku": "S", "warehouse": "W", "on_hand": 0, "safety_threshold": 5}  # P1: 30m / 4h


def _only(harness: Harness, rule: str = "stock.out") -> Ticket:
    (ticket,) = harness.by_rule(rule)
    return ticket


def test_warning_at_80_percent_then_breach_then_severity_raised() -> None:
    harness = Harness(SeverityPolicy.from_text({"P1": {"raise_on_breach": True}}))
    harness.feed(event("stock.level", 0, **STOCK_OUT))
    assert harness.advance(0.39) == []
    assert [c.change for c in harness.advance(0.41)] == ["sla-warning"]  # 24 of 30 minutes
    warned = _only(harness)
    assert warned.warned_acknowledge and not warned.warned_resolve
    assert warned.history[-1].detail == "acknowledge due 2017-05-01T12:30:00Z"
    assert warned.history[-1].at == at(0.4)

    assert [c.change for c in harness.advance(0.6)] == ["breached"]
    breached = _only(harness)
    assert breached.breached_acknowledge and breached.severity == "P0"
    assert [(c.at, c.action, c.detail) for c in breached.history[-2:]] == [
        (at(0.5), "escalated", "P1 → P0"),
        (at(0.5), "sla-breached", "not acknowledged in time"),
    ]

    assert [c.change for c in harness.advance(3.3)] == ["sla-warning"]  # 3.2 of 4 hours
    assert [c.change for c in harness.advance(4.1)] == ["breached"]
    assert _only(harness).severity == "P0"  # P0's policy raises nothing
    assert harness.advance(30) == []  # the rule's own step to P0 is no news


def test_a_breach_leaves_the_severity_by_default() -> None:
    harness = Harness()
    harness.feed(event("stock.level", 0, **STOCK_OUT))
    harness.advance(1)
    ticket = _only(harness)
    assert ticket.breached_acknowledge and ticket.severity == "P1"
    assert [c.action for c in ticket.history] == ["opened", "sla-warning", "sla-breached"]


def test_no_warning_when_acknowledged_or_resolved_in_time(
    redis_embedded: tuple[redis.Redis, str],
) -> None:
    tickets = RedisTicketStore(*redis_embedded, DEFAULT_POLICY)  # people can work these
    harness = Harness(tickets=tickets)
    harness.feed(event("stock.level", 0, **STOCK_OUT))
    ticket_id = _only(harness).id
    tickets.update(ticket_id, lambda t: acknowledge(t, by="ana", at=at(0.2)))
    assert harness.advance(1) == []  # neither warned nor breached: it was acknowledged
    assert [c.change for c in harness.advance(3.3)] == ["sla-warning"]  # not resolved yet
    post_mortem = {"root_cause": "count error", "action_taken": "recounted"}
    tickets.update(ticket_id, lambda t: resolve(t, by="ana", at=at(3.5), **post_mortem))
    assert harness.advance(5) == []
    ticket = _only(harness)
    assert (ticket.warned_acknowledge, ticket.breached_acknowledge) == (False, False)
    assert (ticket.warned_resolve, ticket.breached_resolve) == (True, False)


def test_a_zero_warning_share_means_no_warning() -> None:
    harness = Harness(SeverityPolicy.from_text({"P1": {"warning": 0}}))
    harness.feed(event("stock.level", 0, **STOCK_OUT))
    harness.advance(5)
    actions = [c.action for c in _only(harness).history]
    assert actions == ["opened", "sla-breached", "sla-breached"]


def test_due_times_count_the_teams_business_hours() -> None:
    shanghai = {"zone": "Asia/Shanghai", "days": "mon-fri", "from": "09:00", "to": "18:00"}
    policy = SeverityPolicy.from_text(
        {"P2": {"acknowledge": "1h", "resolve": "4h"}},
        calendars=read_calendars({"inventory": shanghai}),
    )
    harness = Harness(policy)
    friday_5pm = 4 * 24 - 3  # hours after T0 (Monday 2017-05-01 12:00 UTC): Fri 17:00 +08:00
    low = {**STOCK_OUT, "on_hand": 2}  # below safety stock: P2, team inventory
    harness.feed(event("stock.level", friday_5pm, **low))
    ticket = _only(harness, "stock.below-safety")
    assert ticket.acknowledge_due == at(friday_5pm + 1)  # Friday 18:00
    assert ticket.resolve_due == at(7 * 24 - 8)  # Monday 12:00 local

    assert [c.change for c in harness.advance(friday_5pm + 1.1)] == ["sla-warning", "breached"]
    assert harness.advance(7 * 24 - 8.9) == []  # the weekend does not count
    assert [c.change for c in harness.advance(7 * 24 - 8.7)] == ["sla-warning"]  # Mon 11:12
    assert [c.change for c in harness.advance(7 * 24 - 7.9)] == ["breached"]
    times = [c.at for c in _only(harness, "stock.below-safety").history[1:]]
    expected = [friday_5pm + 0.8, friday_5pm + 1, 7 * 24 - 8.8, 7 * 24 - 8]
    assert times == pytest.approx([at(hours) for hours in expected])


def test_a_team_without_a_calendar_keeps_elapsed_time() -> None:
    policy = SeverityPolicy.from_text(
        {}, calendars=read_calendars({"logistics": {"zone": "UTC", "from": "09:00", "to": "17:00"}})
    )
    harness = Harness(policy)
    harness.feed(event("stock.level", 4 * 24 - 3, **STOCK_OUT))  # team inventory
    assert _only(harness).acknowledge_due == at(4 * 24 - 2.5)
