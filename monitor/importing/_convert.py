"""Typed conversions of CSV cells: one table of converters, one ``Convert`` step per field.

A conversion that fails raises ``EventError`` with a reason code (``bad-number``,
``bad-timestamp``, ...): the row becomes a reject, never a silently dropped or guessed value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from functools import lru_cache
from typing import Any

from .._errors import EventError

TIME_TYPES = frozenset({"timestamp", "date-end", "month-end"})
NUMBER_TYPES = frozenset({"int", "float"})
# downstream stores and sorts times as datetimes: year 0 and 10000 do not exist there, and
# a year this far out is a typing or export error, not an order
YEARS = range(1970, 2101)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True)
class Clock:
    """How naive CSV timestamps are read: the formats tried in order (none: ISO 8601) and
    the zone they are local to. Ambiguous or skipped wall-clock times (DST changes) take
    the offset in force before the change (PEP 495 ``fold=0``)."""

    zone: tzinfo
    formats: tuple[str, ...] = ()

    def local(self, value: Any) -> datetime:
        """The value as an aware datetime in this clock's zone; ``EventError``
        (``bad-timestamp``) if it is not a time or its year is outside ``YEARS``."""
        parsed = value if isinstance(value, datetime) else self._parse(str(value))
        # checked before any zone arithmetic, which overflows near year 1 and 9999
        if parsed.year not in YEARS:
            problem = f"year {parsed.year} is outside {YEARS.start}-{YEARS.stop - 1}"
            raise EventError("bad-timestamp", f"{str(value)!r}: {problem}")
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(self.zone)

    def _parse(self, text: str) -> datetime:
        if not self.formats:
            try:
                return datetime.fromisoformat(text)
            except ValueError as error:
                raise EventError("bad-timestamp", f"{text!r}: {error}") from None
        problems = []
        for pattern in self.formats:
            try:
                return _strptime(text, pattern)
            except ValueError as error:
                problems.append((pattern, str(error)))
        # a format the text has the shape of, but with an impossible date, says most
        for pattern, problem in problems:
            if not _MISMATCH.match(problem):
                raise EventError("bad-timestamp", f"{text!r}: {problem} (format {pattern!r})")
        formats = ", ".join(repr(pattern) for pattern in self.formats)
        raise EventError("bad-timestamp", f"{text!r} matches none of the formats {formats}")


# strptime's words for "not of this format", as against a value error in a matching one
_MISMATCH = re.compile(r"time data .* does not match format|unconverted data remains")


@lru_cache(maxsize=4096)
def _strptime(text: str, pattern: str) -> datetime:
    # strptime is slow: exports repeat their dates (a month per stock row), and most
    # patterns are ISO-like, which the C parser reads when the result writes back the same
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, pattern)
    return parsed if parsed.strftime(pattern) == text else datetime.strptime(text, pattern)


def _to_int(value: Any, clock: Clock) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = _to_float(value, clock)
    if not number.is_integer():
        raise EventError("bad-number", f"{value!r} is not a whole number")
    return int(number)


def _to_float(value: Any, clock: Clock) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EventError("bad-number", f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise EventError("bad-number", f"{value!r} is not a finite number")
    return number


def _to_bool(value: Any, clock: Clock) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise EventError("bad-bool", f"{value!r} is not a yes/no value")


def _to_timestamp(value: Any, clock: Clock) -> datetime:
    return clock.local(value).astimezone(UTC)


def _to_date_end(value: Any, clock: Clock) -> datetime:
    day = clock.local(value).date()
    return datetime.combine(day, time.max, tzinfo=clock.zone).astimezone(UTC)


def _to_month_end(value: Any, clock: Clock) -> datetime:
    local = clock.local(value)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=clock.zone).astimezone(UTC)


CONVERTERS: dict[str, Callable[[Any, Clock], Any]] = {
    "str": lambda value, clock: str(value),
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "timestamp": _to_timestamp,
    "date-end": _to_date_end,
    "month-end": _to_month_end,
}


@dataclass(frozen=True)
class Convert:
    """The finishing steps of one field: required check, left-pad, type, rounding."""

    clock: Clock
    type: str | None = None
    pad: int | None = None
    digits: int | None = None
    required: bool = False

    def apply(self, value: Any, path: str) -> Any:
        """Finish ``value`` (``None`` means absent); failures name the field ``path``."""
        if value is None:
            if self.required:
                raise EventError("missing-value", f"{path}: required value is empty")
            return None
        if self.pad is not None:
            value = str(value).rjust(self.pad, "0")
        if self.type is not None:
            try:
                value = CONVERTERS[self.type](value, self.clock)
            except EventError as error:
                raise EventError(error.reason, f"{path}: {error.detail}") from None
        if self.digits is not None:
            value = round(value, self.digits)
        return value
