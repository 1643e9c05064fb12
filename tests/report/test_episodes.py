"""Ticket histories read as episodes, and the ticket figures of a period counted from them:
severities as they stood at each moment, SLA attainment, MTTR, self-resolving rules."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

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


def _worked(rule: str, severity: str, *history: tuple[float, str, str, str]) -> Ticket:
    """A ticket whose history has changes by people: (hours, action, detail, by)."""
    changes = tuple(Change(h * H, by, action, detail) for h, action, detail, by in history)
    return replace(_ticket(rule, severity, (0, "opened", "x")), history=changes)


# customs.hold (P2, acknowledge SLA 2 h): acknowledged after 1 h, resolved by the engine;
# reopened at h10, its acknowledge SLA breached at h12, acknowledged at h13, resolved by bob
CUSTOMS = _worked(
    "customs.hold",
    "P2",
    (0, "opened", "held", "engine"),
    (1, "acknowledged", "", "alice"),
    (5, "resolved", "released", "engine"),
    (10, "reopened", "held again", "engine"),
    (12, "sla-breached", "not acknowledged in time", "engine"),
    (13, "acknowledged", "on it", "bob"),
    (20, "resolved", "", "bob"),
)
# a P3 ticket a person resolved without acknowledging it first: that acknowledges it
DATA_ERROR = _worked(
    "order.data-error", "P3", (30, "opened", "bad", "engine"), (31, "resolved", "", "carol")
)
# acknowledged (out of order in the history) before a breach recorded later by a replay
LATE_RECORD = _worked(
    "customs.hold",
    "P2",
    (40, "opened", "held", "engine"),
    (42, "sla-breached", "not acknowledged in time", "engine"),
    (41.5, "acknowledged", "", "dave"),
)


def test_acknowledgements_are_read_from_the_history() -> None:
    first, second = episodes([CUSTOMS])
    assert (first.acknowledged, second.acknowledged) == (1 * H, 13 * H)
    assert first.acknowledged_in_time() and not second.acknowledged_in_time()
    (resolved_by_person,) = episodes([DATA_ERROR])
    assert resolved_by_person.acknowledged == 31 * H
    (engine_only,) = episodes([QUICK])
    assert engine_only.acknowledged is None


def test_acknowledge_sla_attainment_and_mtta() -> None:
    tickets = [CUSTOMS, DATA_ERROR, LATE_RECORD, STOCK_OUT]
    rows = {r.severity: r for r in severity_rows(episodes(tickets), 0, 48 * H)}

    def ack(row: str) -> tuple[int, int, int, float | None, int | None]:
        r = rows[row]
        return (
            r.acknowledged,
            r.ack_sla_met,
            r.ack_sla_missed,
            r.ack_sla_attainment,
            r.mtta_seconds,
        )

    # P2: met h1 (1 h), late h13 (3 h; missed at h12), met h41.5 (1.5 h; breach not counted)
    assert ack("P2") == (3, 2, 1, round(2 / 3, 4), round((1 + 3 + 1.5) * H / 3))
    assert ack("P3") == (1, 1, 0, 1.0, H)
    # STOCK_OUT: nobody acknowledged; acknowledge SLA breached at h0.5 (P1) and h40.5 (P1)
    assert ack("P1") == (0, 0, 2, 0.0, None)
    assert ack("all") == (4, 3, 3, 0.5, round((1 + 3 + 1.5 + 1) * H / 4))
    # from h12.5: the late acknowledgement counts towards MTTA, its breach was before
    later = {r.severity: r for r in severity_rows(episodes([CUSTOMS]), 12.5 * H, 48 * H)}
    assert (later["P2"].acknowledged, later["P2"].ack_sla_met, later["P2"].ack_sla_missed) == (
        1,
        0,
        0,
    )
    assert (later["P2"].ack_sla_attainment, later["P2"].mtta_seconds) == (None, 3 * H)


def test_acknowledged_tickets_are_not_closed_without_action() -> None:
    health = rule_health(Counter(), episodes([CUSTOMS, DATA_ERROR, QUICK]), [], 0, 48 * H)
    flagged = {
        row.rule: (row.before_ack.part, row.before_ack.whole) for row in health.self_resolved
    }
    assert flagged == {
        "customs.hold": (0, 2),
        "order.data-error": (0, 1),
        "fulfilment.not-handed-over": (1, 1),
    }
