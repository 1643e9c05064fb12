"""Assemble a daily or weekly report: the period's figures, the one before for deltas, and
for a week each day's key figures."""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import takewhile

from .._ticket_store import TicketStore
from ._aggregates import Aggregates
from ._episodes import episodes
from ._figures import Records, figures, headline
from ._model import DaySummary, Headline, Report
from ._period import Period


def build_report(
    period: Period, *, aggregates: Aggregates, tickets: TicketStore, rules: Sequence[str]
) -> Report:
    """The report of ``period`` from the recorded figures and the tickets; ``rules`` are the
    ids of the rules in force (for the rules that never fired)."""
    previous = period.previous()
    start, end = previous.start, period.end
    records = Records(
        aggregates.tallies(start, end),
        aggregates.readings(start, end),
        episodes(takewhile(lambda ticket: ticket.first_seen < end, tickets.all())),
        tuple(rules),
    )
    main = figures(records, period.start, period.end, period.bins())
    now, before = headline(main), _headline(records, previous)
    days = period.each_day() if period.kind == "weekly" else []
    watermark = aggregates.watermark()
    return Report(
        id=period.id,
        kind=period.kind,
        period=period.label,
        zone=period.zone,
        start=period.local(period.start).isoformat(),
        end=period.local(period.end).isoformat(),
        generated_at=period.local(time.time()).isoformat(timespec="seconds"),
        data_through=period.local(watermark).isoformat() if watermark is not None else None,
        complete=watermark is not None and watermark >= period.end,
        figures=main,
        headline=now,
        previous=before,
        deltas=_deltas(now, before),
        days=[DaySummary(day.label, _headline(records, day)) for day in days],
    )


def _headline(records: Records, period: Period) -> Headline:
    return headline(figures(records, period.start, period.end, period.bins()))


def _deltas(now: Headline, before: Headline) -> Headline:
    deltas: Headline = {}
    for name, value in now.items():
        old = before[name]
        deltas[name] = None if value is None or old is None else round(value - old, 4)
    return deltas
