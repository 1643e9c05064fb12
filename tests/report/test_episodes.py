"""Ticket histories read as episodes, and the ticket figures of a period counted from them:
severities as they stood at each moment, SLA attainment, MTTR, self-resolving rules."""

from __future__ import annotations

from collections import Counter

from monitor import Change, Ticket
from monitor.report._episodes import episodes
from monitor.report._ticket_figures import rule_health, severity_rows

H = 3600.0


def _ticket(rule: str, severity: str, *history: tuple[float, str, str]) -> Ticket:
    changes = tuple(Change(at * H, "engine", action, detail) for at, action, detail in history)
    return Ticket(
        id=f"T-{rule}", rule=rule, dedup_key="k", severity=severity, team="t", title="x",
        status="open", occurrences=1, first_seen=changes[0].at, last_seen=changes[-1].at,
        acknowledge_due=0, resolve_due=0, rule_set_version="v", source="s", history=changes,
    )  # fmt: skip


# stock.out: opens P1, escalates to P0 after a day, resolves, reopens at P1 and stays open
STOCK_OUT = _ticket(
    "stock.out",
    "P1",
    (0, "opened", "out"),
    (0.5, "sla-breached", "not acknowledged in time"),
    (4, "sla-breached", "not resolved in time"),
    (24, "escalated", "P1 → P0"),
    (30, "resolved", "cleared"),
    (40, "reopened", "out again"),
    (40.5, "sla-breached", "not acknowledged in time"),
    (44, "sla-breached", "not resolved in time"),
)
# a P2 ticket resolved by the engine within an hour, before anyone had to look
QUICK = _ticket("fulfilment.not-handed-over", "P2", (10, "opened", "late"), (11, "resolved", "x"))


def test_history_becomes_episodes_with_their_severity_over_time() -> None:
    first, second = episodes([STOCK_OUT])
    assert (first.start, first.end, first.reopened, first.severity) == (0, 30 * H, False, "P1")
    assert (first.ack_breach, first.resolve_breach) == (0.5 * H, 4 * H)
    assert first.severity_before(24 * H) == "P1" and first.severity_before(25 * H) == "P0"
    assert (second.start, second.end, second.reopened, second.severity) == (
        40 * H,
        None,
        True,
        "P1",
    )
    assert first.open_at(30 * H) and not first.open_at(31 * H) and second.open_at(1000 * H)


def test_ticket_figures_count_by_the_severity_at_each_moment() -> None:
    rows = {r.severity: r for r in severity_rows(episodes([STOCK_OUT, QUICK]), 0, 48 * H)}
    assert (rows["P1"].opened, rows["P1"].reopened, rows["P1"].open_at_end) == (1, 1, 1)
    assert (rows["P0"].opened, rows["P0"].resolved) == (0, 1)  # resolved after escalating
    assert (rows["P1"].sla_missed, rows["P0"].sla_missed) == (2, 0)
    assert (rows["P2"].sla_met, rows["P2"].sla_attainment, rows["P2"].mttr_seconds) == (1, 1.0, H)
    everything = rows["all"]
    assert (everything.opened, everything.reopened, everything.resolved) == (2, 1, 2)
    assert (everything.sla_met, everything.sla_missed, everything.sla_attainment) == (1, 2, 0.3333)
    assert everything.mttr_seconds == (30 * H + H) / 2
    later = {r.severity: r for r in severity_rows(episodes([STOCK_OUT]), 25 * H, 35 * H)}
    assert later["P0"].resolved == 1 and later["all"].open_at_end == 0


def test_rules_that_mostly_resolve_themselves_are_flagged() -> None:
    health = rule_health(
        Counter({"stock.out": 2}),
        episodes([STOCK_OUT, QUICK]),
        ["stock.out", "customs.hold", "fulfilment.not-handed-over"],
        0,
        48 * H,
    )
    assert health.never_fired == ["customs.hold", "fulfilment.not-handed-over"]
    flagged = {
        row.rule: (row.before_ack.part, row.before_ack.whole, row.flagged)
        for row in health.self_resolved
    }
    assert flagged == {"fulfilment.not-handed-over": (1, 1, True), "stock.out": (0, 1, False)}
