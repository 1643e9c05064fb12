"""The ticket figures of a period, read from ticket episodes (and findings, for rule health).

Tickets count by event time: opened by their first-seen time, reopened and resolved by the
time of that change, open at the period's end; severities as they stood at that moment.
Acknowledgements count by when a person acknowledged (or resolved) an episode. SLA
attainment, for each of acknowledge and resolve: the episodes acknowledged (resolved) in the
period before that SLA breached, divided by those plus the breaches of that SLA in the period
(an acknowledge breach counts unless the episode was acknowledged before it: an episode
breached in one period and acknowledged in a later one counts as missed in the first, and
only towards MTTA in the second). A ticket the engine resolved before its
acknowledge SLA ran out, with nobody having acknowledged it, is one "closed without action".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rules import SEVERITIES

from ._episodes import Episode
from ._model import RuleHealth, RuleTickets, SelfResolved, SeverityRow, TopRule, ratio

TOP = 10


@dataclass
class _Tickets:
    """Counts of episodes in ``[start, end)``."""

    opened: int = 0
    reopened: int = 0
    resolved: int = 0
    open_at_end: int = 0
    sla_met: int = 0
    sla_missed: int = 0
    durations: list[float] = field(default_factory=list)
    acknowledged: int = 0
    ack_met: int = 0
    ack_missed: int = 0
    ack_durations: list[float] = field(default_factory=list)


def _count(
    episodes: Sequence[Episode],
    start: float,
    end: float,
    counts: Callable[[Episode, float], bool] = lambda episode, moment: True,
) -> _Tickets:
    """Count the episodes' changes in the period for which ``counts(episode, moment)`` holds
    (e.g. the severity at that moment is P1)."""
    found = _Tickets()
    for e in episodes:
        if start <= e.start < end and counts(e, e.start):
            found.reopened += e.reopened
            found.opened += not e.reopened
        if e.end is not None and start <= e.end < end and counts(e, e.end):
            found.resolved += 1
            found.sla_met += e.resolve_breach is None
            found.durations.append(e.end - e.start)
        acked = e.acknowledged
        if acked is not None and start <= acked < end and counts(e, acked):
            found.acknowledged += 1
            found.ack_met += e.acknowledged_in_time()
            found.ack_durations.append(acked - e.start)
        ack_breach = e.ack_breach
        if (
            ack_breach is not None
            and not e.acknowledged_in_time()
            and start <= ack_breach < end
            and counts(e, ack_breach)
        ):
            found.ack_missed += 1
        if e.open_at(end) and counts(e, end):
            found.open_at_end += 1
        breach = e.resolve_breach
        if breach is not None and start <= breach < end and counts(e, breach):
            found.sla_missed += 1
    return found


def rule_tickets(episodes: Sequence[Episode], rule: str, start: float, end: float) -> RuleTickets:
    """One rule's tickets in ``[start, end)``."""
    c = _count([e for e in episodes if e.rule == rule], start, end)
    return RuleTickets(rule, c.opened, c.reopened, c.resolved, c.open_at_end)


def severity_rows(episodes: Sequence[Episode], start: float, end: float) -> list[SeverityRow]:
    """Tickets by severity, then all together."""
    rows = []
    for severity in (*SEVERITIES, "all"):
        c = _count(episodes, start, end, _at(severity))
        rows.append(
            SeverityRow(
                severity=severity,
                opened=c.opened,
                reopened=c.reopened,
                resolved=c.resolved,
                open_at_end=c.open_at_end,
                sla_met=c.sla_met,
                sla_missed=c.sla_missed,
                sla_attainment=ratio(c.sla_met, c.sla_met + c.sla_missed).share,
                mttr_seconds=_mean(c.durations),
                acknowledged=c.acknowledged,
                ack_sla_met=c.ack_met,
                ack_sla_missed=c.ack_missed,
                ack_sla_attainment=ratio(c.ack_met, c.ack_met + c.ack_missed).share,
                mtta_seconds=_mean(c.ack_durations),
            )
        )
    return rows


def _mean(durations: Sequence[float]) -> int | None:
    return round(sum(durations) / len(durations)) if durations else None


def _at(severity: str) -> Callable[[Episode, float], bool]:
    """Whether an episode's severity at a moment is ``severity`` (any, for "all")."""
    return lambda e, moment: severity == "all" or e.severity_before(moment) == severity


def top_rules(
    findings: Counter[str], episodes: Sequence[Episode], start: float, end: float
) -> list[TopRule]:
    """The rules with the most findings (then ticket changes) in the period."""
    by_rule: dict[str, list[Episode]] = {rule: [] for rule in findings}
    for e in episodes:
        by_rule.setdefault(e.rule, []).append(e)
    rows = []
    for rule, mine in by_rule.items():
        c = _count(mine, start, end)
        if findings[rule] or c.opened or c.reopened or c.resolved:
            rows.append(
                TopRule(rule, findings[rule], c.opened, c.reopened, c.resolved, c.open_at_end)
            )
    rows.sort(key=lambda r: (-r.findings, -(r.opened + r.reopened + r.resolved), r.rule))
    return rows[:TOP]


def rule_health(
    findings: Counter[str],
    episodes: Sequence[Episode],
    rules: Sequence[str],
    start: float,
    end: float,
) -> RuleHealth:
    """Rules in force that never fired; per rule, how many of its resolutions in the period
    came before the acknowledge SLA ran out with nobody having acknowledged the ticket
    (flagged when most did: likely noise)."""
    resolved: dict[str, list[Episode]] = {}
    for e in episodes:
        if e.end is not None and start <= e.end < end:
            resolved.setdefault(e.rule, []).append(e)
    rows = []
    for rule, done in sorted(resolved.items()):
        quick = ratio(sum(e.ack_breach is None and e.acknowledged is None for e in done), len(done))
        rows.append(SelfResolved(rule, quick, flagged=(quick.share or 0) > 0.5))
    return RuleHealth(sorted(rule for rule in rules if not findings[rule]), rows)
