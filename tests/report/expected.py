"""A period's report figures computed from the independent world (``independent.py``) with
plain counting, shaped as the report's JSON holds them."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .independent import HOUR, RULES, SEVERITIES, Episode, World

BANDS = ("stocked out", "under 1", "1 to 3", "3 to 6", "6 or more", "no consumption")
MONTHS = ((1, "under 1"), (3, "1 to 3"), (6, "3 to 6"), (float("inf"), "6 or more"))


def _ratio(part: int, whole: int) -> dict[str, Any]:
    return {"part": part, "whole": whole, "share": round(part / whole, 4) if whole else None}


def midnight(day: date, zone: str) -> float:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).timestamp()


def bins(first: date, days: int, zone: str) -> list[tuple[str, float, float]]:
    """Hours of a day, or days of a week, from local midnight."""
    if days == 7:
        return [
            ((first + timedelta(n)).strftime("%a %d"), midnight(first + timedelta(n), zone),
             midnight(first + timedelta(n + 1), zone))
            for n in range(7)
        ]  # fmt: skip
    start, end = midnight(first, zone), midnight(first + timedelta(1), zone)
    hours = []
    moment = start
    while moment < end:
        label = datetime.fromtimestamp(moment, ZoneInfo(zone)).strftime("%H:%M")
        hours.append((label, moment, min(moment + HOUR, end)))
        moment += HOUR
    return hours


def figures(w: World, start: float, end: float, columns: list[tuple[str, float, float]]) -> dict:
    """The figures of ``[start, end)`` as the report's JSON holds them."""

    def inside(at: float) -> bool:
        return start <= at < end

    events = [e for e in w.events if inside(e[0])]
    measures = Counter(name for at, name in w.measures if inside(at))
    findings = [f for f in w.findings if inside(f[0])]
    by_rule = Counter(rule for _, rule, _, _ in findings)
    by_type = Counter((kind, source) for _, kind, source, _ in events)
    series: dict[str, list[int]] = {}
    for at, kind, _, _ in events:
        column = next(n for n, (_, s, e) in enumerate(columns) if s <= at < e)
        series.setdefault(kind.split(".")[0], [0] * len(columns))[column] += 1
    orders = Counter((s, c) for _, kind, s, c in events if kind == "order.created")
    errors = Counter((s, c) for _, rule, s, c in findings if rule == "order.data-error")
    tickets = {rule: _rule_tickets(w, rule, start, end) for rule in RULES}
    return {
        "events": {
            "total": len(events),
            "rows": [{"type": k, "source": s, "count": n} for (k, s), n in sorted(by_type.items())],
        },
        "timeline": {"labels": [c[0] for c in columns], "series": dict(sorted(series.items()))},
        "order_quality": {
            "total": _ratio(sum(errors.values()), sum(orders.values())),
            "rows": [
                {"source": s, "channel": c, "errors": _ratio(errors[s, c], orders[s, c])}
                for s, c in sorted(set(orders) | set(errors))
            ],
        },
        "fulfilment": {
            "delivered": measures["delivered"],
            "delivered_late": _ratio(measures["delivered-late"], measures["delivered-promised"]),
            "handed_over": measures["handed-over"],
            "handed_over_late": _ratio(
                measures["handed-over-late"], measures["handed-over-deadline"]
            ),
            "stalled": [tickets["logistics.no-scan-24h"], tickets["fulfilment.not-handed-over"]],
        },
        "stock": _stock_figures(
            w, start, end, [tickets["stock.out"], tickets["stock.below-safety"]]
        ),
        "customs": {"held": 0, "released": 0, "tickets": [tickets["customs.hold"]]},
        "tickets": [_severity_row(w, start, end, s) for s in (*SEVERITIES, "all")],
        "top_rules": _top_rules(by_rule, tickets),
        "top_sources": _top_sources(events, findings),
        "rule_health": _rule_health(w, by_rule, start, end),
    }


def _stock_figures(w: World, start: float, end: float, tickets: list[dict]) -> dict:
    readings = sorted(r for r in w.readings if start <= r[0] < end)
    newest = {
        (site, sku): (on_hand, threshold, amc) for _, site, sku, on_hand, threshold, amc in readings
    }
    bands: Counter[str] = Counter()
    months = []
    for on_hand, _, amc in newest.values():
        if amc > 0:
            months.append(max(on_hand, 0) / amc)
        if on_hand <= 0:
            bands["stocked out"] += 1
        elif amc <= 0:
            bands["no consumption"] += 1
        else:
            months_left = on_hand / amc
            bands[next(label for bound, label in MONTHS if months_left < bound)] += 1
    pairs = list(newest.values())
    return {
        "readings": len(readings),
        "pairs": len(pairs),
        "stocked_out": _ratio(sum(p[0] <= 0 for p in pairs), len(pairs)),
        "below_safety": _ratio(sum(0 < p[0] < p[1] for p in pairs), len(pairs)),
        "months_of_stock_median": round(statistics.median(months), 2) if months else None,
        "months_of_stock": [[band, bands[band]] for band in BANDS],
        "tickets": tickets,
    }


def _counts(eps: list[Episode], start: float, end: float) -> dict[str, int]:
    return {
        "opened": sum(start <= e.start < end and not e.reopened for e in eps),
        "reopened": sum(start <= e.start < end and e.reopened for e in eps),
        "resolved": sum(e.end is not None and start <= e.end < end for e in eps),
        "open_at_end": sum(e.start < end and (e.end is None or e.end >= end) for e in eps),
    }


def _rule_tickets(w: World, rule: str, start: float, end: float) -> dict:
    return {"rule": rule, **_counts([e for e in w.episodes if e.rule == rule], start, end)}


def _severity_row(w: World, start: float, end: float, severity: str) -> dict:
    def at(e: Episode, moment: float) -> bool:
        return severity == "all" or e.severity_before(moment, w.last) == severity

    def within(moment: float | None) -> bool:
        return moment is not None and start <= moment < end

    opened = [e for e in w.episodes if within(e.start) and at(e, e.start)]
    resolved = [e for e in w.episodes if e.end is not None and within(e.end) and at(e, e.end)]
    missed = [e for e in w.episodes if within(e.breach(1, w.last)) and at(e, e.breach(1, w.last))]
    met = [e for e in resolved if e.breach(1, w.last) is None]
    durations = [e.end - e.start for e in resolved if e.end is not None]
    acked = [e for e in w.episodes if within(e.acknowledged) and at(e, e.acknowledged)]
    ack_met = [e for e in acked if _in_time(e, w.last)]
    ack_missed = [
        e
        for e in w.episodes
        if within(e.breach(0, w.last)) and at(e, e.breach(0, w.last)) and not _in_time(e, w.last)
    ]
    waits = [e.acknowledged - e.start for e in acked if e.acknowledged is not None]
    return {
        "severity": severity,
        "opened": sum(not e.reopened for e in opened),
        "reopened": sum(e.reopened for e in opened),
        "resolved": len(resolved),
        "open_at_end": sum(
            e.start < end and (e.end is None or e.end >= end) and at(e, end) for e in w.episodes
        ),
        "sla_met": len(met),
        "sla_missed": len(missed),
        "sla_attainment": _ratio(len(met), len(met) + len(missed))["share"],
        "mttr_seconds": round(sum(durations) / len(durations)) if durations else None,
        "acknowledged": len(acked),
        "ack_sla_met": len(ack_met),
        "ack_sla_missed": len(ack_missed),
        "ack_sla_attainment": _ratio(len(ack_met), len(ack_met) + len(ack_missed))["share"],
        "mtta_seconds": round(sum(waits) / len(waits)) if waits else None,
    }


def _in_time(e: Episode, last: float) -> bool:
    """Acknowledged before the acknowledge SLA ran out (if it ran out while the data lasted)."""
    breach = e.breach(0, last)
    return e.acknowledged is not None and (breach is None or e.acknowledged < breach)


def _top_rules(findings: Counter[str], tickets: dict[str, dict]) -> list[dict]:
    rows = [
        {"rule": rule, "findings": findings[rule], **{k: v for k, v in t.items() if k != "rule"}}
        for rule, t in tickets.items()
        if findings[rule] or t["opened"] or t["reopened"] or t["resolved"]
    ]
    rows.sort(
        key=lambda r: (-r["findings"], -(r["opened"] + r["reopened"] + r["resolved"]), r["rule"])
    )
    return rows[:10]


def _top_sources(events: list, findings: list) -> list[dict]:
    counted = Counter(source for _, _, source, _ in events)
    found = Counter(source for _, _, source, _ in findings)
    rows = [
        {"source": s, "events": counted[s], "findings": found[s]} for s in set(counted) | set(found)
    ]
    rows.sort(key=lambda r: (-r["events"], -r["findings"], r["source"]))
    return rows[:10]


def _rule_health(w: World, findings: Counter[str], start: float, end: float) -> dict:
    resolved: dict[str, list[Episode]] = defaultdict(list)
    for e in w.episodes:
        if e.end is not None and start <= e.end < end:
            resolved[e.rule].append(e)
    rows = []
    for rule, done in sorted(resolved.items()):
        quick = _ratio(
            sum(e.breach(0, w.last) is None and e.acknowledged is None for e in done), len(done)
        )
        rows.append({"rule": rule, "before_ack": quick, "flagged": (quick["share"] or 0) > 0.5})
    return {"never_fired": sorted(r for r in RULES if not findings[r]), "self_resolved": rows}


def headline(f: dict) -> dict[str, Any]:
    every = f["tickets"][-1]
    return {
        "events": f["events"]["total"],
        "orders": sum(r["count"] for r in f["events"]["rows"] if r["type"] == "order.created"),
        "data_error_share": f["order_quality"]["total"]["share"],
        "delivered": f["fulfilment"]["delivered"],
        "late_delivery_share": f["fulfilment"]["delivered_late"]["share"],
        "late_handover_share": f["fulfilment"]["handed_over_late"]["share"],
        "stocked_out": f["stock"]["stocked_out"]["part"],
        "below_safety": f["stock"]["below_safety"]["part"],
        "customs_held": f["customs"]["held"],
        "tickets_opened": every["opened"],
        "tickets_resolved": every["resolved"],
        "tickets_open": every["open_at_end"],
        "sla_attainment": every["sla_attainment"],
        "mttr_seconds": every["mttr_seconds"],
        "tickets_acknowledged": every["acknowledged"],
        "ack_sla_attainment": every["ack_sla_attainment"],
        "mtta_seconds": every["mtta_seconds"],
    }
