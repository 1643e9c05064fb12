"""Every figure of one period, from the recorded tallies, stock readings and ticket episodes.

Sections that are about one kind of finding name the shipped rule pack's rules (below);
with other rules in force they show zeros for rules that do not exist.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._aggregates import Reading, Tally
from ._episodes import Episode
from ._model import (
    Customs,
    EventCount,
    Events,
    Figures,
    Fulfilment,
    Headline,
    OrderQuality,
    QualityRow,
    RuleTickets,
    Stock,
    Timeline,
    TopSource,
    ratio,
)
from ._period import Bin
from ._ticket_figures import TOP, rule_health, rule_tickets, severity_rows, top_rules

ORDER_TYPES = ("order.created", "order.updated")
DATA_ERROR_RULE = "order.data-error"
STALLED_RULES = ("logistics.no-scan-24h", "fulfilment.not-handed-over")
STOCK_RULES = ("stock.out", "stock.below-safety")
CUSTOMS_RULES = ("customs.hold",)
# Months of stock (on hand ÷ average monthly consumption): label and upper bound.
MONTHS_OF_STOCK = (("under 1", 1.0), ("1 to 3", 3.0), ("3 to 6", 6.0), ("6 or more", None))
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Records:
    """What figures are computed from, loaded once for the whole span a report covers."""

    tallies: Counter[Tally]
    readings: Sequence[Reading]
    episodes: Sequence[Episode]
    rules: Sequence[str]  # the rules in force, by id


def figures(records: Records, start: float, end: float, bins: Sequence[Bin]) -> Figures:
    """The figures of ``[start, end)``, with a timeline over ``bins``."""
    tallies = Counter({t: n for t, n in records.tallies.items() if start <= t.at < end})
    episodes = [e for e in records.episodes if e.start < end]
    findings = _sum(tallies, "finding", lambda t: t.name)
    measures = _sum(tallies, "measure", lambda t: t.name)
    return Figures(
        events=_events(tallies),
        timeline=_timeline(tallies, bins),
        order_quality=_order_quality(tallies),
        fulfilment=Fulfilment(
            measures["delivered"],
            ratio(measures["delivered-late"], measures["delivered-promised"]),
            measures["handed-over"],
            ratio(measures["handed-over-late"], measures["handed-over-deadline"]),
            [rule_tickets(episodes, rule, start, end) for rule in STALLED_RULES],
        ),
        stock=_stock(
            _sum(tallies, "event", lambda t: t.name)["stock.level"],
            [r for r in records.readings if start <= r.at < end],
            [rule_tickets(episodes, rule, start, end) for rule in STOCK_RULES],
        ),
        customs=Customs(
            measures["customs-held"],
            measures["customs-released"],
            [rule_tickets(episodes, rule, start, end) for rule in CUSTOMS_RULES],
        ),
        tickets=severity_rows(episodes, start, end),
        top_rules=top_rules(findings, episodes, start, end),
        top_sources=_top_sources(tallies),
        rule_health=rule_health(findings, episodes, records.rules, start, end),
    )


def headline(f: Figures) -> Headline:
    """The key figures, for day-over-day deltas and the weekly per-day table."""
    everything = f.tickets[-1]
    return {
        "events": f.events.total,
        "orders": sum(row.count for row in f.events.rows if row.type == "order.created"),
        "data_error_share": f.order_quality.total.share,
        "delivered": f.fulfilment.delivered,
        "late_delivery_share": f.fulfilment.delivered_late.share,
        "late_handover_share": f.fulfilment.handed_over_late.share,
        "stocked_out": f.stock.stocked_out.part,
        "below_safety": f.stock.below_safety.part,
        "customs_held": f.customs.held,
        "tickets_opened": everything.opened,
        "tickets_resolved": everything.resolved,
        "tickets_open": everything.open_at_end,
        "sla_attainment": everything.sla_attainment,
        "mttr_seconds": everything.mttr_seconds,
        "tickets_acknowledged": everything.acknowledged,
        "ack_sla_attainment": everything.ack_sla_attainment,
        "mtta_seconds": everything.mtta_seconds,
    }


def _sum(tallies: Counter[Tally], kind: str, key: Callable[[Tally], K]) -> Counter[K]:
    """The counts of one kind of tally, added up by ``key``."""
    found: Counter[K] = Counter()
    for tally, count in tallies.items():
        if tally.kind == kind:
            found[key(tally)] += count
    return found


def _events(tallies: Counter[Tally]) -> Events:
    counts = _sum(tallies, "event", lambda t: (t.name, t.source))
    rows = [EventCount(kind, source, n) for (kind, source), n in sorted(counts.items())]
    return Events(sum(counts.values()), rows)


def _timeline(tallies: Counter[Tally], bins: Sequence[Bin]) -> Timeline:
    series: dict[str, list[int]] = {}
    for tally, count in tallies.items():
        if tally.kind == "event":
            column = next(n for n, b in enumerate(bins) if b.start <= tally.at < b.end)
            family = tally.name.split(".")[0]
            series.setdefault(family, [0] * len(bins))[column] += count
    return Timeline([b.label for b in bins], dict(sorted(series.items())))


def _order_quality(tallies: Counter[Tally]) -> OrderQuality:
    orders: Counter[tuple[str, str]] = Counter()
    errors: Counter[tuple[str, str]] = Counter()
    for t, count in tallies.items():
        if t.kind == "event" and t.name in ORDER_TYPES:
            orders[t.source, t.channel] += count
        elif t.kind == "finding" and t.name == DATA_ERROR_RULE:
            errors[t.source, t.channel] += count
    rows = [
        QualityRow(source, channel, ratio(errors[source, channel], orders[source, channel]))
        for source, channel in sorted(set(orders) | set(errors))
    ]
    return OrderQuality(ratio(errors.total(), orders.total()), rows)


def _stock(received: int, readings: Sequence[Reading], tickets: list[RuleTickets]) -> Stock:
    """``received``: stock.level events; ``readings``: the newest of each pair per bucket."""
    newest: dict[tuple[str, str], Reading] = {}
    for r in sorted(readings, key=lambda r: r.at):
        newest[r.warehouse, r.sku] = r
    pairs = list(newest.values())
    out = [r for r in pairs if r.on_hand <= 0]
    low = [r for r in pairs if r.threshold is not None and 0 < r.on_hand < r.threshold]
    months = [max(r.on_hand, 0) / r.amc for r in pairs if r.amc is not None and r.amc > 0]
    bands: Counter[str] = Counter()
    for r in pairs:
        bands[_band(r)] += 1
    labels = ["stocked out", *(label for label, _ in MONTHS_OF_STOCK), "no consumption"]
    return Stock(
        readings=received,
        pairs=len(pairs),
        stocked_out=ratio(len(out), len(pairs)),
        below_safety=ratio(len(low), len(pairs)),
        months_of_stock_median=round(statistics.median(months), 2) if months else None,
        months_of_stock=[(label, bands[label]) for label in labels],
        tickets=tickets,
    )


def _band(reading: Reading) -> str:
    if reading.on_hand <= 0:
        return "stocked out"
    if reading.amc is None or reading.amc <= 0:
        return "no consumption"
    months = reading.on_hand / reading.amc
    return next(label for label, bound in MONTHS_OF_STOCK if bound is None or months < bound)


def _top_sources(tallies: Counter[Tally]) -> list[TopSource]:
    events = _sum(tallies, "event", lambda t: t.source)
    findings = _sum(tallies, "finding", lambda t: t.source)
    rows = [
        TopSource(source, events[source], findings[source])
        for source in set(events) | set(findings)
    ]
    rows.sort(key=lambda r: (-r.events, -r.findings, r.source))
    return rows[:TOP]
