"""Scheduled daily reports: one per day per time zone, each generated at a local time.

An entry ``{tz = "America/Sao_Paulo", at = "06:00"}`` produces, every local day at 06:00 in
that zone, the report of the previous local calendar day there. Everything here is pure but
the loop (``run_schedule``), and that takes its clock and its report generation as arguments,
so the timing can be tested without waiting.

Daylight-saving changes: a local time that does not exist on a spring-forward day runs at the
first instant after the gap; one that happens twice on a fall-back day runs once, at the first
occurrence (PEP 495 ``fold=0``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._errors import RiskMonitorError
from ._period import Period, ReportError, daily

_AT = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
MAX_NAP = 60.0  # seconds: a long sleep is cut up so a wall-clock jump is noticed within this
RETRY_AFTER = 300.0  # seconds before a failed run is tried again


@dataclass(frozen=True, order=True)
class ScheduleEntry:
    """One zone's daily report, generated every local day at ``at``."""

    zone: str
    at: time

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def run_on(self, day: date) -> ScheduledRun:
        """The run on local day ``day``: at ``at`` there, producing the report of the day
        before."""
        return ScheduledRun(_moment(day, self.at, self.tz), day - timedelta(days=1), self)

    def latest(self, now: datetime) -> ScheduledRun:
        """The most recent run due at or before ``now`` (an aware datetime)."""
        return max(run for run in self._around(now) if run.due <= now)

    def following(self, now: datetime) -> ScheduledRun:
        """The first run due after ``now`` (an aware datetime)."""
        return min(run for run in self._around(now) if run.due > now)

    def _around(self, now: datetime) -> list[ScheduledRun]:
        # Due moments increase from one local day to the next, and a gap moves one by at
        # most a few hours, so two days either side of today always hold both answers.
        today = now.astimezone(self.tz).date()
        return [self.run_on(today + timedelta(days=n)) for n in range(-2, 3)]


@dataclass(frozen=True, order=True)
class ScheduledRun:
    """One scheduled generation: when it is due (aware, UTC) and the local day it reports."""

    due: datetime
    day: date
    entry: ScheduleEntry

    @property
    def period(self) -> Period:
        """The report's period: the local calendar day ``day`` in the entry's zone."""
        return daily(self.day, self.entry.zone)

    @property
    def report_id(self) -> str:
        return f"{self.day.isoformat()}@{self.entry.zone}"


def parse_schedule(raw: Sequence[Mapping[str, str]]) -> tuple[ScheduleEntry, ...]:
    """The ``report_schedule`` setting as entries; ``ReportError`` naming the first bad entry
    (by position) if a zone is not an IANA name or a time is not HH:MM."""
    entries = []
    for number, item in enumerate(raw):
        where = f"report_schedule[{number}]"
        unknown = sorted(set(item) - {"tz", "at"})
        if unknown or set(item) != {"tz", "at"}:
            problem = f"unknown {', '.join(unknown)}" if unknown else "needs both tz and at"
            raise ReportError(f'{where}: {problem} (e.g. {{tz = "UTC", at = "06:00"}})')
        zone, at = item["tz"], item["at"]
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportError(f"{where}: unknown time zone {zone!r} (an IANA name)") from None
        match = _AT.fullmatch(at)
        if match is None:
            raise ReportError(f"{where}: at {at!r} is not a local time HH:MM (00:00 to 23:59)")
        entries.append(ScheduleEntry(zone, time(int(match[1]), int(match[2]))))
    return tuple(entries)


def due_runs(
    schedule: Iterable[ScheduleEntry], now: datetime, done: Callable[[ScheduledRun], bool]
) -> list[ScheduledRun]:
    """The runs to carry out at ``now``: each entry's latest due run that is not ``done``.

    This is both the on-time run and the make-up of a missed one (the process was down at the
    due time); only the latest run of an entry is made up, older days are left to
    ``riskmon report daily``."""
    return [run for run in (entry.latest(now) for entry in schedule) if not done(run)]


def next_run(schedule: Iterable[ScheduleEntry], now: datetime) -> ScheduledRun | None:
    """The first run due after ``now`` among all entries; ``None`` if the schedule is empty."""
    return min((entry.following(now) for entry in schedule), default=None)


def done_by(generated_at: str | None, run: ScheduledRun) -> bool:
    """Whether a stored report generated at ``generated_at`` (ISO 8601 with offset, or ``None``
    when there is none) counts as ``run`` carried out: it was generated at or after the due
    moment, so a report generated early by hand is generated again on schedule."""
    return generated_at is not None and datetime.fromisoformat(generated_at) >= run.due


class ScheduleClock(Protocol):
    """Time as the scheduler sees it."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; ``True`` if asked to stop meanwhile."""


class SystemClock:
    """The wall clock; ``stop`` ends a wait early (set it from a signal handler)."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float) -> bool:
        return self.stop.wait(max(seconds, 0.0))


def run_schedule(
    schedule: Sequence[ScheduleEntry],
    *,
    clock: ScheduleClock,
    done: Callable[[ScheduledRun], bool],
    generate: Callable[[ScheduledRun], None],
    failed: Callable[[ScheduledRun, RiskMonitorError], None],
    once: bool = False,
) -> int:
    """Carry out what is due now (missed runs included), then, unless ``once``, sleep until
    the next due run and carry it out, until ``clock.wait`` reports a stop.

    A run whose ``generate`` raises a ``RiskMonitorError`` is handed to ``failed`` and tried
    again after ``RETRY_AFTER`` seconds (while it is still the latest of its entry). Returns
    the number of failed runs."""
    failures = 0
    while True:
        retry = False
        for run in due_runs(schedule, clock.now(), done):
            try:
                generate(run)
            except RiskMonitorError as error:
                failed(run, error)
                failures += 1
                retry = True
        upcoming = next_run(schedule, clock.now())
        if once or upcoming is None:
            return failures
        wake = upcoming.due
        if retry:
            wake = min(wake, clock.now() + timedelta(seconds=RETRY_AFTER))
        while (left := (wake - clock.now()).total_seconds()) > 0:
            if clock.wait(min(left, MAX_NAP)):
                return failures


def _moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Local ``at`` on ``day`` in ``tz`` as a UTC moment: the first occurrence if it happens
    twice, the first instant after the gap if it does not happen at all."""
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first occurrence
    moment = local.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # In a gap: fold=1 reads the time with the offset after the change, which lands before
    # the change, and fold=0 with the offset before it, which lands after. The change lies
    # between; find it to the second.
    low = int(local.replace(fold=1).timestamp())  # before the change
    high = int(moment.timestamp())  # at or after it
    before = datetime.fromtimestamp(low, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
