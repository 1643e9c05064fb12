"""Business hours: SLA due times that count only a team's working time, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor import ConfigError
from monitor._calendar import Calendar, due_after, read_calendars

HOUR = 3600.0


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """Epoch seconds of a local wall-clock time (``fold=0``)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).timestamp()


def utc(year: int, month: int, day: int, hour: int = 0) -> float:
    return datetime(year, month, day, hour, tzinfo=UTC).timestamp()


def calendar(zone: str, **fields: Any) -> Calendar:
    text = {"zone": zone, "days": "mon-fri", "from": "09:00", "to": "18:00", **fields}
    return read_calendars({"team": text})["team"]


def test_without_a_calendar_time_is_elapsed_time() -> None:
    start = utc(2026, 3, 27, 16)
    assert due_after(start, 4 * HOUR, None) == start + 4 * HOUR


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ((2026, 5, 4, 10, 0), 4, (2026, 5, 4, 14, 0)),  # inside one working day
        ((2026, 5, 8, 17, 0), 4, (2026, 5, 11, 12, 0)),  # Friday 17:00 → Monday 12:00
        ((2026, 5, 9, 11, 0), 2, (2026, 5, 11, 11, 0)),  # opened on a Saturday
        ((2026, 5, 4, 6, 30), 1, (2026, 5, 4, 10, 0)),  # before opening
        ((2026, 5, 4, 19, 0), 1, (2026, 5, 5, 10, 0)),  # after closing
        ((2026, 5, 4, 10, 0), 8, (2026, 5, 4, 18, 0)),  # due exactly at closing
        ((2026, 5, 4, 10, 0), 27, (2026, 5, 7, 10, 0)),  # three working days
        ((2026, 9, 30, 17, 0), 4, (2026, 10, 2, 12, 0)),  # over the holiday on Thursday
    ],
)
def test_only_working_time_counts(
    start: tuple[int, ...], hours: float, due: tuple[int, ...]
) -> None:
    shanghai = calendar("Asia/Shanghai", holidays=["2026-10-01"])
    zone = "Asia/Shanghai"
    assert due_after(local(zone, *start), hours * HOUR, shanghai) == local(zone, *due)


@pytest.mark.parametrize(
    ("zone", "start", "due_utc"),
    [
        # Friday 17:00 CET + 4 h → Monday 12:00 CEST: summer time began on Sunday 29 March.
        ("Europe/Berlin", (2026, 3, 27, 17), (2026, 3, 30, 10)),
        # Friday 17:00 CEST + 4 h → Monday 12:00 CET: it ended on Sunday 25 October.
        ("Europe/Berlin", (2026, 10, 23, 17), (2026, 10, 26, 11)),
        # Friday 17:00 EST + 4 h → Monday 12:00 EDT: summer time began on Sunday 8 March.
        ("America/New_York", (2026, 3, 6, 17), (2026, 3, 9, 16)),
        # Friday 17:00 EDT + 4 h → Monday 12:00 EST: it ended on Sunday 1 November.
        ("America/New_York", (2026, 10, 30, 17), (2026, 11, 2, 17)),
    ],
)
def test_office_hours_stay_local_over_a_dst_weekend(
    zone: str, start: tuple[int, ...], due_utc: tuple[int, ...]
) -> None:
    assert due_after(local(zone, *start), 4 * HOUR, calendar(zone)) == utc(*due_utc)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", (2026, 3, 29), 23),
        ("Europe/Berlin", (2026, 10, 25), 25),
        ("America/New_York", (2026, 3, 8), 23),
        ("America/New_York", (2026, 11, 1), 25),
    ],
)
def test_a_dst_day_counts_its_real_hours(zone: str, day: tuple[int, ...], hours: int) -> None:
    always = calendar(zone, days="mon-sun", **{"from": "00:00", "to": "24:00"})
    start = local(zone, *day, 0)
    next_midnight = local(zone, day[0], day[1], day[2] + 1, 0)
    assert due_after(start, hours * HOUR, always) == next_midnight
    assert next_midnight - start == hours * HOUR


def test_a_window_on_a_dst_day_is_measured_in_real_time() -> None:
    # 01:00–04:00 local on the spring-forward night lasts 2 h (02:00–03:00 never happens).
    berlin = calendar("Europe/Berlin", days="sun", **{"from": "01:00", "to": "04:00"})
    start = local("Europe/Berlin", 2026, 3, 29, 0)
    assert due_after(start, 2 * HOUR, berlin) == utc(2026, 3, 29, 2)  # 04:00 CEST
    assert due_after(start, 3 * HOUR, berlin) == utc(2026, 4, 5, 0)  # next Sunday 02:00 CEST


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"zone": "Asia/Shangai"}, "zone: unknown time zone 'Asia/Shangai'"),
        ({"from": "9am"}, "from: '9am' is not a local time"),
        ({"to": "08:00"}, "'to' must be later than 'from'"),
        ({"days": "mon-fry"}, "days: 'mon-fry' is not a day"),
        ({"days": []}, "at least one working day"),
        ({"holidays": ["2026-13-01"]}, "holidays: '2026-13-01' is not a date"),
        ({"start": "09:00"}, "unknown start"),
    ],
)
def test_a_broken_calendar_is_refused_naming_team_and_field(
    fields: dict[str, Any], message: str
) -> None:
    text = {"zone": "UTC", "from": "09:00", "to": "18:00", **fields}
    with pytest.raises(ConfigError, match=r"business_hours\.inventory: .*") as refused:
        read_calendars({"inventory": text})
    assert message in str(refused.value)


def test_zone_and_hours_are_required() -> None:
    with pytest.raises(ConfigError, match=r"business_hours\.inventory: missing zone, from"):
        read_calendars({"inventory": {"to": "18:00"}})
