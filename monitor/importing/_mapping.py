"""A loaded mapping: joins, derived values and event specs, and how one row becomes events."""

from __future__ import annotations

import collections.abc as abc
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._errors import ImportMappingError
from ._tables import CsvFormat
from ._values import Names, Obj, Scope, Value


@dataclass(frozen=True)
class JoinSpec:
    """Rows of ``file`` whose ``key`` column equals the main row's ``on`` column: one row
    (a lookup) or, when ``many``, all of them (a list); ``required``: no match rejects."""

    name: str
    file: str
    on: str
    key: str
    many: bool
    required: bool
    where: str


@dataclass(frozen=True)
class Derived:
    """A named value computed once per row, readable by later specs like a column."""

    name: str
    value: Value
    where: str


@dataclass(frozen=True)
class EventSpec:
    """One event a row may give; it is emitted only when its time is present."""

    type: str
    id: Value
    source: Value
    subject: Value | None
    time: Value
    data: Obj

    def build(self, scope: Scope) -> dict[str, Any] | None:
        """The CloudEvents mapping for ``scope``, or ``None`` if its time is absent."""
        label = f"[{self.type}] "
        time = self.time.evaluate(scope, label + "time")
        if time is None:
            return None
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id.evaluate(scope, label + "id"),
            "source": self.source.evaluate(scope, label + "source"),
            "type": self.type,
            "time": time,
        }
        subject = None if self.subject is None else self.subject.evaluate(scope, label + "subject")
        if subject is not None:
            event["subject"] = subject
        event["datacontenttype"] = "application/json"
        event["data"] = self.data.evaluate(scope, label + "data")
        return event

    def check(self, names: Names) -> None:
        """Refuse the spec if it reads a name ``names`` lacks."""
        for value in (self.id, self.source, self.subject, self.time, self.data):
            if value is not None:
                value.check(names)


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file: which CSV files to read and how each main row becomes events.

    ``rows`` names the main file (``None``: it must be given); ``params`` holds the final
    parameter values, defaults overridden by the caller's."""

    path: Path
    rows: str | None
    csv: CsvFormat
    params: abc.Mapping[str, Any]
    joins: tuple[JoinSpec, ...]
    derived: tuple[Derived, ...]
    events: tuple[EventSpec, ...]

    def check(self, header: abc.Sequence[str], joined: abc.Mapping[str, abc.Sequence[str]]) -> None:
        """Refuse the mapping if it reads a column the files lack (``ImportMappingError``)."""
        names = Names(
            frozenset(header),
            one={j.name: frozenset(joined[j.name]) for j in self.joins if not j.many},
            many={j.name: frozenset(joined[j.name]) for j in self.joins if j.many},
        )
        for join in self.joins:
            if join.on not in header:
                raise ImportMappingError(f"{join.where}: the rows have no column {join.on!r}")
            if join.key not in joined[join.name]:
                raise ImportMappingError(f"{join.where}: {join.file} has no column {join.key!r}")
        for derived in self.derived:
            if derived.name in names.variables():
                raise ImportMappingError(f"{derived.where}: {derived.name!r} is already a name")
            derived.value.check(names)
            names = replace(names, columns=names.columns | {derived.name})
        for event in self.events:
            event.check(names)

    def build(self, scope: Scope) -> list[dict[str, Any]]:
        """The events of one main row; ``EventError`` if the row cannot be converted."""
        for derived in self.derived:
            scope.values[derived.name] = derived.value.evaluate(scope, f"derive.{derived.name}")
        return [event for spec in self.events if (event := spec.build(scope)) is not None]
