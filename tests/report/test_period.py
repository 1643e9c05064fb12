"""Report periods: local calendar days and ISO weeks, across daylight-saving changes and in
zones off the whole hour; what cannot be reported is refused with a plain message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from monitor.report import ReportError, daily, weekly


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("zone", "day", "start", "hours"),
    [
        ("UTC", date(2018, 4, 1), "2018-04-01 00:00", 24),
        ("Asia/Kolkata", date(2018, 4, 1), "2018-03-31 18:30", 24),
        ("Asia/Kathmandu", date(2018, 4, 1), "2018-03-31 18:15", 24),
        ("America/Sao_Paulo", date(2017, 10, 15), "2017-10-15 03:00", 23),  # midnight skipped
        ("America/Sao_Paulo", date(2018, 2, 17), "2018-02-17 02:00", 25),
    ],
)
def test_a_day_runs_from_local_midnight_to_the_next(
    zone: str, day: date, start: str, hours: int
) -> None:
    period = daily(day, zone)
    assert _utc(period.start) == start
    assert period.end - period.start == hours * 3600
    bins = period.bins()
    assert len(bins) == hours and bins[0].start == period.start and bins[-1].end == period.end
    assert period.id == f"{day.isoformat()}@{zone}"
    assert period.previous().label == date.fromordinal(day.toordinal() - 1).isoformat()


def test_the_hour_repeated_when_clocks_go_back_has_two_columns() -> None:
    labels = [b.label for b in daily(date(2018, 2, 17), "America/Sao_Paulo").bins()]
    assert labels[-3:] == ["22:00", "23:00", "23:00"]


def test_an_iso_week_is_monday_to_sunday() -> None:
    week = weekly("2017-W47", "America/Sao_Paulo")
    assert week.first == date(2017, 11, 20) and week.id == "2017-W47@America/Sao_Paulo"
    assert [d.label for d in week.each_day()][::6] == ["2017-11-20", "2017-11-26"]
    assert [b.label for b in week.bins()][:2] == ["Mon 20", "Tue 21"]
    assert week.previous().label == "2017-W46"
    assert weekly("2021-W01", "UTC").first == date(2021, 1, 4)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: daily(date(2018, 1, 1), "Mars/Olympus"), "unknown time zone"),
        (lambda: daily(date(2018, 1, 1), "../etc/passwd"), "unknown time zone"),
        (lambda: weekly("2017-47", "UTC"), "not an ISO week"),
        (lambda: weekly("2017-W54", "UTC"), "not an ISO week"),
        # Liberia kept UTC-00:44:30 until 1972: its days do not start on a quarter hour
        (lambda: daily(date(1970, 6, 1), "Africa/Monrovia"), "not on a quarter hour"),
    ],
)
def test_what_cannot_be_reported_is_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        make()
