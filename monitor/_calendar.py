"""Business hours: a team's working calendar, and SLA due times that count only its hours.

A calendar is local to its zone: it opens and closes at the same wall-clock times on both
sides of a daylight-saving change, so a day that spans a change counts its real elapsed
hours (an 00:00–24:00 day lasts 23 h or 25 h). Local times become instants as in Python's
``fold=0``: a time that happens twice means its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import ConfigError

_T = TypeVar("_T")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
_FIELDS = ("zone", "days", "from", "to", "holidays")


@dataclass(frozen=True)
class Calendar:
    """When a team works: weekdays (0 = Monday) from ``opens`` to ``closes`` local time
    (offsets from midnight) in ``zone``, except ``holidays``."""

    zone: ZoneInfo
    days: frozenset[int]
    opens: timedelta
    closes: timedelta
    holidays: frozenset[date] = frozenset()

    def windows(self, since: float) -> Iterator[tuple[float, float]]:
        """The working stretches (epoch seconds) of every working day from ``since``'s on."""
        day = datetime.fromtimestamp(since, UTC).astimezone(self.zone).date()
        while True:
            if day.weekday() in self.days and day not in self.holidays:
                midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
                yield (midnight + self.opens).timestamp(), (midnight + self.closes).timestamp()
            day += timedelta(days=1)


def due_after(start: float, duration: float, calendar: Calendar | None) -> float:
    """The instant (epoch seconds) ``duration`` seconds of working time after ``start``;
    plain elapsed time when there is no calendar."""
    if calendar is None or duration <= 0:
        return start + duration
    left = duration
    for opens, closes in calendar.windows(start):
        begin = max(opens, start)
        if closes - begin >= left:
            return begin + left
        left -= max(closes - begin, 0.0)
    raise AssertionError("unreachable: a calendar has working days for ever")


def read_calendars(text: Mapping[str, Mapping[str, Any]]) -> dict[str, Calendar]:
    """Each team's calendar from the ``business_hours`` setting; ``ConfigError`` naming the
    team and the field on any fault."""
    return {team: _calendar(team, fields) for team, fields in text.items()}


def _calendar(team: str, fields: Mapping[str, Any]) -> Calendar:
    where = f"business_hours.{team}"
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown {', '.join(sorted(unknown))} ({', '.join(_FIELDS)})")
    missing = [name for name in ("zone", "from", "to") if name not in fields]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    try:
        calendar = Calendar(
            zone=_field("zone", parse_zone, fields["zone"]),
            days=_field("days", _working_days, fields.get("days", "mon-fri")),
            opens=_field("from", parse_local_time, fields["from"]),
            closes=_field("to", parse_local_time, fields["to"]),
            holidays=frozenset(_date(value) for value in fields.get("holidays", [])),
        )
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    if calendar.closes <= calendar.opens:
        raise ConfigError(f"{where}: 'to' must be later than 'from' on the same day")
    return calendar


def parse_zone(value: Any) -> ZoneInfo:
    """An IANA time zone by name; ``ValueError`` naming the value otherwise."""
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai"
        ) from None


def parse_days(value: Any) -> frozenset[int]:
    """Weekdays (0 = Monday) from a list or comma-separated text of days and ranges
    (``mon-fri``, ``sat,sun``; a range may wrap: ``fri-mon``)."""
    parts = value if isinstance(value, list) else str(value).split(",")
    days: set[int] = set()
    for part in (str(p).strip().lower() for p in parts):
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"{part!r} is not a day or range of days: use mon…sun, e.g. mon-fri")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return frozenset(days)


def parse_local_time(value: Any) -> timedelta:
    """A wall-clock time ``HH:MM`` (``24:00`` is the end of the day) as time since midnight."""
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise ValueError(f"{value!r} is not a local time: write HH:MM in quotes, e.g. '09:00'")
    hours, minutes = value.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _field(name: str, parse: Callable[[Any], _T], value: Any) -> _T:
    try:
        return parse(value)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _working_days(value: Any) -> frozenset[int]:
    days = parse_days(value)
    if not days:
        raise ValueError("name at least one working day, e.g. mon-fri")
    return days


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # a TOML date written without quotes
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"holidays: {value!r} is not a date, write YYYY-MM-DD") from None
