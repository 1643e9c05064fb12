"""Report periods: calendar days and ISO weeks in one time zone, as spans of epoch seconds.

A day is the local calendar day, from local midnight to the next (23 or 25 hours across a
daylight-saving change). Its bounds must fall on a quarter hour of UTC, because the figures
recorded while events are processed are kept per 15-minute UTC bucket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._errors import RiskMonitorError

BUCKET = 900  # seconds per recorded bucket
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class ReportError(RiskMonitorError):
    """A report cannot be made as asked (unknown time zone, bad date or week, no such report)."""


@dataclass(frozen=True)
class Bin:
    """One column of a timeline: a label and its span."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Period:
    """Consecutive local calendar days in a time zone: ``[start, end)`` in epoch seconds."""

    kind: Literal["daily", "weekly"]
    label: str
    zone: str
    first: date
    days: int

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def id(self) -> str:
        """The stored report's id: one report per period and time zone."""
        return f"{self.label}@{self.zone}"

    @property
    def start(self) -> float:
        return self._midnight(self.first)

    @property
    def end(self) -> float:
        return self._midnight(self.first + timedelta(days=self.days))

    def local(self, moment: float) -> datetime:
        """Epoch seconds as local time in this period's zone."""
        return datetime.fromtimestamp(moment, self.tz)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        first = self.first - timedelta(days=self.days)
        return _make(self.kind, first, self.zone)

    def each_day(self) -> list[Period]:
        """The period's days, each as a daily period."""
        return [_make("daily", self.first + timedelta(days=n), self.zone) for n in range(self.days)]

    def bins(self) -> list[Bin]:
        """Timeline columns: hours of a day (from local midnight), days of a week."""
        if self.kind == "weekly":
            return [Bin(d.first.strftime("%a %d"), d.start, d.end) for d in self.each_day()]
        starts = range(int(self.start), int(self.end), 3600)
        return [Bin(self.local(s).strftime("%H:%M"), s, min(s + 3600, self.end)) for s in starts]

    def _midnight(self, day: date) -> float:
        # A midnight skipped by a daylight-saving change resolves to the change itself.
        return datetime.combine(day, time(0), tzinfo=self.tz).timestamp()


def daily(day: date, zone: str) -> Period:
    """The calendar day ``day`` in ``zone`` (an IANA name such as ``America/Sao_Paulo``)."""
    return _make("daily", day, zone)


def weekly(week: str, zone: str) -> Period:
    """The ISO week ``week`` (``YYYY-Www``, Monday to Sunday) in ``zone``."""
    match = _WEEK.fullmatch(week)
    try:
        if match is None:
            raise ValueError
        first = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ReportError(f"{week!r} is not an ISO week such as 2017-W47") from None
    return _make("weekly", first, zone)


def _make(kind: Literal["daily", "weekly"], first: date, zone: str) -> Period:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone {zone!r} (an IANA name, e.g. Europe/Paris)") from None
    if kind == "daily":
        period = Period(kind, first.isoformat(), zone, first, 1)
    else:
        year, week, _ = first.isocalendar()
        period = Period(kind, f"{year}-W{week:02d}", zone, first, 7)
    days = range(period.days + 1)
    for bound in (period._midnight(first + timedelta(days=n)) for n in days):
        if bound % BUCKET:
            raise ReportError(
                f"in {zone} a day of {period.label} starts at {period.local(bound):%H:%M:%S%z}, "
                "not on a quarter hour of UTC: figures are kept per 15 minutes"
            )
    return period
