"""Prometheus metrics: every metric the monitor exports is declared here, on an injected
registry (tests use a fresh one).

Two sources feed them. ``PipelineMetrics`` is a pipeline observer: it counts what each
processed batch did. ``TicketMetrics`` is a collector that reads the ticket store when
scraped, so the gauges that describe tickets are right after a restart, and whichever
process wrote the tickets. Time to acknowledge is read there too: people acknowledge tickets
with ``riskmon tickets ack`` (``RedisTicketStore.update``, another process than the pipeline),
so no process sees every acknowledgement happen; every acknowledgement is in the store.
Label values are bounded (event types, sources, rules,
severities, teams, reasons, change kinds): never an order, ticket or event id.
"""

from __future__ import annotations

import math
import time
from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from rules import SEVERITIES

from ._actions import Occurrence
from ._pipeline import Batch
from ._ticket_store import TicketStore
from ._tickets import Ticket
from .report._episodes import episodes

_HOUR = 3600.0
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RESOLUTION_BUCKETS = tuple(
    hours * _HOUR for hours in (0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 72, 168, 336, 720)
)
SLA_KINDS = ("acknowledge", "resolve")
_EPISODE_STARTS = ("opened", "reopened")


class PipelineMetrics:
    """Counters, histograms and gauges of the pipeline; hand it to the pipeline as an observer.

    Late events and duplicates are counted without labels: a ``Batch`` says how many there
    were, not which.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        self._records = counter("riskmon_records_read_total", "Input records read, valid or not.")
        self._events = counter(
            "riskmon_events_processed_total",
            "Events processed (first seen, late ones included).",
            "type",
            "source",
        )
        self._duplicates = counter(
            "riskmon_events_duplicate_total",
            "Events skipped as already processed (same source+id).",
        )
        self._late = counter(
            "riskmon_events_late_total", "Events processed although older than the watermark."
        )
        self._dead_letters = counter(
            "riskmon_dead_letters_total", "Input records refused as events, by reason.", "reason"
        )
        self._matches = counter(
            "riskmon_rule_matches_total",
            "Rule matches (absence timers that ran out included).",
            "rule",
            "severity",
        )
        self._changes = counter(
            "riskmon_ticket_changes_total",
            "Ticket changes (opened, updated, reopened, resolved, escalated, sla-warning,"
            " breached), by the ticket's severity after the change.",
            "rule",
            "severity",
            "change",
        )
        self._reloads = counter(
            "riskmon_rule_reloads_total",
            "Rule file reloads by a running worker, by result (success, failure).",
            "result",
        )
        for result in ("success", "failure"):  # known values start at 0: queries find them
            self._reloads.labels(result)
        self._batch_seconds = Histogram(
            "riskmon_batch_duration_seconds",
            "Wall time to process one batch, from parsing to stored results.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self._resolution_seconds = Histogram(
            "riskmon_ticket_resolution_seconds",
            "Event time from a ticket's opening (or reopening) to its resolution.",
            ["severity"],
            buckets=RESOLUTION_BUCKETS,
            registry=registry,
        )
        self._watermark = math.nan
        Gauge(
            "riskmon_watermark_timestamp_seconds",
            "The watermark (event time), seconds since the epoch; NaN before the first event.",
            registry=registry,
        ).set_function(lambda: self._watermark)
        Gauge(
            "riskmon_watermark_lag_seconds",
            "Wall clock minus the watermark, at scrape time; NaN before the first event.",
            registry=registry,
        ).set_function(lambda: time.time() - self._watermark)

    def count_reload(self, result: str) -> None:
        """Count one reload of the rule files (``success`` or ``failure``)."""
        self._reloads.labels(result).inc()

    def observe(self, batch: Batch) -> None:
        """Count one batch."""
        self._records.inc(batch.read)
        self._duplicates.inc(batch.duplicates)
        self._late.inc(batch.late)
        self._batch_seconds.observe(batch.seconds)
        if math.isfinite(batch.watermark):
            self._watermark = batch.watermark
        _add(self._events, Tally((event.type, event.source) for event in batch.events))
        _add(self._dead_letters, Tally((letter.reason,) for letter in batch.dead_letters))
        _add(
            self._matches,
            Tally((a.rule, a.severity) for a in batch.actions if isinstance(a, Occurrence)),
        )
        _add(
            self._changes,
            Tally((c.ticket.rule, c.ticket.severity, c.change) for c in batch.changes),
        )
        for change in batch.changes:
            ticket = change.ticket
            if change.change == "resolved" and ticket.resolved_at is not None:
                seconds = ticket.resolved_at - _episode_start(ticket)
                self._resolution_seconds.labels(ticket.severity).observe(seconds)


def _add(counter: Counter, counts: Tally[tuple[str, ...]]) -> None:
    for labels, count in counts.items():
        counter.labels(*labels).inc(count)


def _episode_start(ticket: Ticket) -> float:
    """When the ticket last opened or reopened: time to resolve is measured from there, since
    a reopened ticket's earlier life and the quiet time before its reopening are not time
    spent resolving it."""
    return next(c.at for c in reversed(ticket.history) if c.action in _EPISODE_STARTS)


# Gauges that count the unresolved tickets of one rule: (metric name, rule id, help).
RULE_GAUGES = (
    (
        "riskmon_stock_keys_below_safety",
        "stock.below-safety",
        "Stock keys (warehouse and SKU) below their safety threshold: open stock.below-safety"
        " tickets.",
    ),
    ("riskmon_stock_keys_out", "stock.out", "Stock keys out of stock: open stock.out tickets."),
    (
        "riskmon_shipments_stalled",
        "logistics.no-scan-24h",
        "Shipments with no carrier scan for 24 h: open logistics.no-scan-24h tickets.",
    ),
)


class TicketMetrics(Collector):
    """Gauges of the ticket store, computed from ``TicketStore.all()`` at each scrape (one
    pass over the tickets; a failing store fails the scrape, which ``up`` reports).

    Every severity (and every team that has tickets) is reported, with 0 when nothing is
    open, so a series does not vanish when its last ticket is resolved.
    """

    def __init__(self, tickets: TicketStore) -> None:
        self._tickets = tickets

    def describe(self) -> Iterator[Metric]:
        """The families without samples: lets the registry refuse duplicate names without
        reading the store."""
        return iter([*_families(), _acknowledge_family()])

    def collect(self) -> Iterator[Metric]:
        """The families, with samples from the store as it is now."""
        open_tickets: Tally[tuple[str, str]] = Tally()
        breached: Tally[tuple[str, str]] = Tally()
        by_rule: Tally[str] = Tally()
        teams: set[str] = set()
        acknowledged: dict[str, list[float]] = {severity: [] for severity in SEVERITIES}
        for ticket in self._tickets.all():
            teams.add(ticket.team)
            for episode in episodes([ticket]):
                if episode.acknowledged is not None:
                    severity = episode.severity_before(episode.acknowledged)
                    acknowledged[severity].append(episode.acknowledged - episode.start)
            if ticket.status == "resolved":
                continue
            open_tickets[ticket.severity, ticket.team] += 1
            by_rule[ticket.rule] += 1
            for kind, late in zip(
                SLA_KINDS, (ticket.breached_acknowledge, ticket.breached_resolve), strict=True
            ):
                breached[ticket.severity, kind] += late
        opened, sla, *rules = _families()
        for severity in SEVERITIES:
            for team in sorted(teams):
                opened.add_metric([severity, team], open_tickets[severity, team])
            for kind in SLA_KINDS:
                sla.add_metric([severity, kind], breached[severity, kind])
        for family, (_, rule, _) in zip(rules, RULE_GAUGES, strict=True):
            family.add_metric([], by_rule[rule])
        return iter([opened, sla, *rules, _acknowledge_family(acknowledged)])


def _acknowledge_family(seconds: dict[str, list[float]] | None = None) -> HistogramMetricFamily:
    """Time to acknowledge: one observation per acknowledged episode in the store, labelled
    with the severity when it was acknowledged; the store holds every acknowledgement, so the
    buckets only grow (as long as tickets are kept)."""
    family = HistogramMetricFamily(
        "riskmon_ticket_acknowledge_seconds",
        "Time from a ticket's opening (or reopening) to a person's acknowledgement, read from"
        " the ticket store at scrape time.",
        labels=["severity"],
    )
    for severity, observed in (seconds or {}).items():
        buckets = [(floatToGoString(b), sum(s <= b for s in observed)) for b in RESOLUTION_BUCKETS]
        buckets.append(("+Inf", len(observed)))
        family.add_metric([severity], buckets, sum(observed))
    return family


def _families() -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "riskmon_open_tickets",
            "Unresolved tickets (open, acknowledged or reopened).",
            labels=["severity", "team"],
        ),
        GaugeMetricFamily(
            "riskmon_open_tickets_sla_breached",
            "Unresolved tickets whose acknowledge or resolve SLA is breached.",
            labels=["severity", "kind"],
        ),
        *(GaugeMetricFamily(name, doc) for name, _, doc in RULE_GAUGES),
    ]
