"""On-call schedules and escalation chains: who is on call at an instant, who to notify next.

A schedule file declares people, teams, schedules and escalation chains; ``load_oncall`` reads
it and refuses any fault with ``file:line``. Everything else is pure: no clock, no I/O.

A schedule is a stack of layers; each layer rotates its people in its own time zone and may
cover only some hours of some weekdays (follow-the-sun). At an instant the answer is the
override in force, else the last layer covering it, else nobody.

Wall-clock rule. Rotation handovers and coverage windows are local times of their layer's
zone and stay there across daylight-saving changes: a daily handover at 09:00 is at 09:00
local on both sides of a change, so the shift across a spring-forward night lasts 23 h and
the one across a fall-back night 25 h. A local time becomes an instant by PEP 495 ``fold=0``:

- a time that happens twice (fall back) means its first occurrence, on summer time;
- a time that does not happen (spring forward) is read with the offset in force before the
  change, so it lands as far after the gap as it was into it: 02:30 in Berlin on 2026-03-29
  is 03:30 CEST (java.time and pendulum do the same).

Both sides of a boundary go through the same rule, so windows that meet on the local clock
still meet in time. Escalation waits are elapsed time, not wall-clock time.

One module (past the house's ~400 lines) because the file's sections, their checks and the
evaluation share the same small frozen types; split it if the format grows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from ruamel.yaml.comments import CommentedMap

from monitor import parse_days, parse_local_time, parse_zone
from rules import RuleError, parse_duration, yaml_line, yaml_mapping, yaml_plain

from ._errors import AlertsError

# ── the model ─────────────────────────────────────────────────────────────────────────────


class ScheduleError(AlertsError):
    """A schedule file is refused; the message names ``file:line``."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        self.file, self.line = file, line
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass(frozen=True)
class Person:
    """Someone who can be on call; ``contacts`` maps a receiver kind to an address."""

    id: str
    name: str
    contacts: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Team:
    """A named group of people; notifying a team notifies every member."""

    id: str
    members: tuple[Person, ...]


@dataclass(frozen=True)
class Window:
    """Daily coverage: from ``start`` to ``end`` after local midnight of each of ``days``
    (0 = Monday). ``end`` past 24 h means the window runs into the next day."""

    days: frozenset[int]
    start: timedelta
    end: timedelta


@dataclass(frozen=True)
class Layer:
    """A rotation in one zone: ``people`` take turns of ``rotation`` (wall-clock) from
    ``start`` (naive, local to ``zone``), only inside ``coverage`` if any is given."""

    name: str
    zone: ZoneInfo
    people: tuple[Person, ...]
    rotation: timedelta
    start: datetime
    coverage: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Override:
    """``person`` is on call from ``start`` to ``end`` (aware instants), whatever the layers say."""

    person: Person
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    """Layers (later ones win) and overrides (win over every layer)."""

    id: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    team: Team | None = None


@dataclass(frozen=True)
class Shift:
    """``person`` (``None``: nobody) is on call from ``start`` to ``end``, both in UTC."""

    person: Person | None
    start: datetime
    end: datetime


Target = Schedule | Person | Team


@dataclass(frozen=True)
class Step:
    """Notify ``target``, then wait ``wait`` before the next step."""

    target: Target
    wait: timedelta


@dataclass(frozen=True)
class Chain:
    """An escalation chain: its steps in order, run ``1 + repeat`` times until acknowledged."""

    id: str
    steps: tuple[Step, ...]
    repeat: int = 0


@dataclass(frozen=True)
class DueStep:
    """Step ``index`` of pass ``round`` (0 = the first), due at ``due_at``."""

    round: int
    index: int
    step: Step
    due_at: datetime


@dataclass(frozen=True)
class ChainState:
    """Where a chain stands: every notification due so far, oldest first (``(round, index)``
    names one, so a sender can skip those already logged), and when the next one falls due
    (``None`` once acknowledged or when the chain is exhausted)."""

    due: tuple[DueStep, ...]
    next_at: datetime | None
    acknowledged: bool

    @property
    def latest(self) -> DueStep | None:
        """The step most recently due, if any."""
        return self.due[-1] if self.due else None


@dataclass(frozen=True)
class OnCall:
    """Everything one schedule file declares, by id."""

    people: Mapping[str, Person]
    teams: Mapping[str, Team]
    schedules: Mapping[str, Schedule]
    chains: Mapping[str, Chain]


# ── who is on call ────────────────────────────────────────────────────────────────────────


def who_is_on_call(schedule: Schedule, at: datetime) -> Person | None:
    """The person on call at ``at`` (an aware datetime), or ``None`` if nobody is."""
    moment = _utc(at, "at")
    for override in schedule.overrides:
        if override.start <= moment < override.end:
            return override.person
    for layer in reversed(schedule.layers):
        if _covers(layer, moment):
            person = _rotation_person(layer, moment)
            if person is not None:
                return person
    return None


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The shifts from ``start`` to ``end`` (aware), cut to the interval, one per person in
    turn: each boundary is a handover. Stretches with nobody on call have ``person=None``."""
    low, high = _utc(start, "start"), _utc(end, "end")
    if high <= low:
        return []
    edges = sorted({low, *(t for t in _edges(schedule, low, high) if low < t < high)})
    found: list[Shift] = []
    for begin, finish in zip(edges, [*edges[1:], high], strict=True):
        person = who_is_on_call(schedule, begin)
        if found and found[-1].person == person:
            found[-1] = Shift(person, found[-1].start, finish)
        else:
            found.append(Shift(person, begin, finish))
    return found


def recipients(target: Target, at: datetime) -> tuple[Person, ...]:
    """Who a step's target reaches at ``at``: a person, a team's members, or whoever a
    schedule has on call (nobody if it has no one)."""
    if isinstance(target, Person):
        return (target,)
    if isinstance(target, Team):
        return target.members
    person = who_is_on_call(target, at)
    return (person,) if person else ()


def _utc(value: datetime, name: str) -> datetime:
    # Aware datetimes sharing one tzinfo compare on the wall clock and ignore fold, so every
    # instant is taken to UTC first.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {value!r}")
    return value.astimezone(UTC)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time in ``zone`` as a UTC instant, by the module's fold=0 rule."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _boundary(layer: Layer, k: int) -> datetime:
    return _instant(layer.start + k * layer.rotation, layer.zone)


def _rotation_index(layer: Layer, moment: datetime) -> int | None:
    """Which turn is running at ``moment``; ``None`` before the layer starts."""
    if moment < _boundary(layer, 0):
        return None
    k = max(0, (_local(moment, layer.zone) - layer.start) // layer.rotation)
    # The wall-clock estimate can be a turn off next to a clock change; settle on instants.
    while k > 0 and moment < _boundary(layer, k):
        k -= 1
    while moment >= _boundary(layer, k + 1):
        k += 1
    return k


def _rotation_person(layer: Layer, moment: datetime) -> Person | None:
    k = _rotation_index(layer, moment)
    return None if k is None else layer.people[k % len(layer.people)]


def _windows(layer: Layer, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """Coverage intervals of windows opening on local days ``first`` to ``last``; a window the
    fold rule leaves empty (inside a spring-forward gap) is skipped."""
    day = first
    while day <= last:
        midnight = datetime(day.year, day.month, day.day)
        for window in layer.coverage:
            if day.weekday() in window.days:
                opens = _instant(midnight + window.start, layer.zone)
                closes = _instant(midnight + window.end, layer.zone)
                if opens < closes:
                    yield opens, closes
        day += timedelta(days=1)


def _covers(layer: Layer, moment: datetime) -> bool:
    if not layer.coverage:
        return True
    today = _local(moment, layer.zone).date()
    spans = _windows(layer, today - timedelta(days=1), today)
    return any(opens <= moment < closes for opens, closes in spans)


def _edges(schedule: Schedule, low: datetime, high: datetime) -> Iterator[datetime]:
    """Every instant in ``[low, high]`` at which the answer may change."""
    for override in schedule.overrides:
        yield from (override.start, override.end)
    for layer in schedule.layers:
        k = _rotation_index(layer, low) or 0
        while (turn := _boundary(layer, k)) <= high:
            yield turn
            k += 1
        first = _local(low, layer.zone).date() - timedelta(days=2)
        for opens, closes in _windows(layer, first, _local(high, layer.zone).date()):
            yield from (opens, closes)


# ── escalation ────────────────────────────────────────────────────────────────────────────


def chain_step_at(
    chain: Chain,
    opened_at: datetime,
    now: datetime,
    *,
    acknowledged_at: datetime | None = None,
) -> ChainState:
    """Where ``chain`` stands at ``now`` for an alert opened at ``opened_at``.

    Step 0 is due at ``opened_at``; each next step after the previous one's wait; after the
    last step's wait the chain starts over, ``repeat`` more times. An acknowledgement stops
    it: a step due at or after ``acknowledged_at`` (when that is not after ``now``) is never
    due. All times aware.
    """
    opened, current = _utc(opened_at, "opened_at"), _utc(now, "now")
    ack = _utc(acknowledged_at, "acknowledged_at") if acknowledged_at else None
    if ack is not None and ack <= current:
        due = tuple(e for e in _timeline(chain, opened) if e.due_at < ack)
        return ChainState(due=due, next_at=None, acknowledged=True)
    due = tuple(e for e in _timeline(chain, opened) if e.due_at <= current)
    later = (e.due_at for e in _timeline(chain, opened) if e.due_at > current)
    return ChainState(due=due, next_at=next(later, None), acknowledged=False)


def _timeline(chain: Chain, opened: datetime) -> Iterator[DueStep]:
    at = opened
    for round_ in range(chain.repeat + 1):
        for index, step in enumerate(chain.steps):
            yield DueStep(round_, index, step, at)
            at += step.wait


# ── the file: YAML → shape (pydantic) → references and cross-checks → the model ──────────

_T = TypeVar("_T")


def _duration(value: Any) -> timedelta:
    try:
        seconds = parse_duration(str(value))
    except RuleError as error:
        raise ValueError(error.message) from None
    return timedelta(seconds=seconds)


def _an_hour_or_more(value: timedelta) -> timedelta:
    # Shorter turns could start inside a spring-forward gap and run backwards in time.
    if value < timedelta(hours=1):
        raise ValueError("a rotation lasts at least 1h")
    return value


def _naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise ValueError("a layer's start is local to its zone: write it without an offset")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Zone = Annotated[ZoneInfo, BeforeValidator(parse_zone)]
Clock = Annotated[timedelta, BeforeValidator(parse_local_time)]
Days = Annotated[frozenset[int], BeforeValidator(parse_days)]


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )


class _PersonDoc(_Section):
    id: str
    name: str | None = None
    contacts: dict[str, str] = {}


class _TeamDoc(_Section):
    id: str
    members: list[str] = Field(min_length=1)


class _WindowDoc(_Section):
    days: Days = frozenset(range(7))
    start: Clock = Field(alias="from")
    end: Clock = Field(alias="to")

    @model_validator(mode="after")
    def _not_empty(self) -> _WindowDoc:
        if self.start >= timedelta(days=1):
            raise ValueError("'from' is a time of day: 00:00 to 23:59")
        if self.start == self.end:
            raise ValueError("'from' and 'to' are the same time; leave out 'coverage' for 24 h")
        return self


class _LayerDoc(_Section):
    name: str
    zone: Zone
    rotation: Annotated[Duration, AfterValidator(_an_hour_or_more)]
    start: Annotated[datetime, AfterValidator(_naive)]
    people: list[str] = Field(min_length=1)
    coverage: list[_WindowDoc] = []


class _OverrideDoc(_Section):
    person: str
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> _OverrideDoc:
        if self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self


class _ScheduleDoc(_Section):
    id: str
    team: str | None = None
    layers: list[_LayerDoc] = Field(min_length=1)
    overrides: list[_OverrideDoc] = []


class _TargetDoc(_Section):
    schedule: str | None = None
    person: str | None = None
    team: str | None = None

    @model_validator(mode="after")
    def _one(self) -> _TargetDoc:
        if sum(v is not None for v in (self.schedule, self.person, self.team)) != 1:
            raise ValueError("notify exactly one of 'schedule', 'person' or 'team'")
        return self


class _StepDoc(_Section):
    notify: _TargetDoc
    wait: Duration


class _ChainDoc(_Section):
    id: str
    steps: list[_StepDoc] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=100)


class _FileDoc(_Section):
    people: list[_PersonDoc] = Field(min_length=1)
    teams: list[_TeamDoc] = []
    schedules: list[_ScheduleDoc] = []
    escalations: list[_ChainDoc] = []


def load_oncall(path: Path) -> OnCall:
    """Read and check a schedule file; ``ScheduleError`` at ``file:line`` on any fault."""
    return read_oncall(path.read_text(encoding="utf-8"), file=str(path))


def read_oncall(text: str, *, file: str) -> OnCall:
    """Parse and check a schedule file's text; ``ScheduleError`` at ``file:line`` on any fault."""
    document = yaml_mapping(
        text, file, ScheduleError, "a schedule file is a mapping with a 'people:' list"
    )
    try:
        doc = _FileDoc.model_validate(yaml_plain(document))
    except ValidationError as error:
        found = sorted(
            (yaml_line(document, item["loc"]), ".".join(map(str, item["loc"])), item["msg"])
            for item in error.errors()
        )
        (line, where, message), *more = found
        others = "".join(f"\n{file}:{n}: {at}: {what}" for n, at, what in more[:9])
        raise ScheduleError(f"{where}: {message}{others}", file=file, line=line) from None
    return _Builder(document, file).build(doc)


class _Builder:
    """Resolves references section by section, each refusal placed at its line."""

    def __init__(self, document: CommentedMap, file: str) -> None:
        self.document, self.file = document, file

    def fail(self, message: str, *location: Any) -> ScheduleError:
        return ScheduleError(message, file=self.file, line=yaml_line(self.document, location))

    def unique(self, section: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for index, id_ in enumerate(ids):
            if id_ in seen:
                raise self.fail(f"{section} id {id_!r} is defined twice", section, index, "id")
            seen.add(id_)

    def lookup(self, kind: str, table: Mapping[str, _T], id_: str, *location: Any) -> _T:
        if id_ not in table:
            known = ", ".join(sorted(table)) or "none"
            raise self.fail(f"no {kind} {id_!r}; defined: {known}", *location)
        return table[id_]

    def build(self, doc: _FileDoc) -> OnCall:
        self.unique("people", [item.id for item in doc.people])
        self.unique("teams", [item.id for item in doc.teams])
        self.unique("schedules", [item.id for item in doc.schedules])
        self.unique("escalations", [item.id for item in doc.escalations])
        people = {p.id: Person(p.id, p.name or p.id, dict(p.contacts)) for p in doc.people}
        teams = {t.id: self.team(t, i, people) for i, t in enumerate(doc.teams)}
        schedules = {s.id: self.schedule(s, i, people, teams) for i, s in enumerate(doc.schedules)}
        targets = _Targets(people, teams, schedules)
        chains = {c.id: self.chain(c, i, targets) for i, c in enumerate(doc.escalations)}
        return OnCall(people, teams, schedules, chains)

    def team(self, doc: _TeamDoc, at: int, people: Mapping[str, Person]) -> Team:
        members = tuple(
            self.lookup("person", people, name, "teams", at, "members", i)
            for i, name in enumerate(doc.members)
        )
        return Team(doc.id, members)

    def schedule(
        self, doc: _ScheduleDoc, at: int, people: Mapping[str, Person], teams: Mapping[str, Team]
    ) -> Schedule:
        where = ("schedules", at)
        team = self.lookup("team", teams, doc.team, *where, "team") if doc.team else None
        layers = tuple(
            self.layer(layer, (*where, "layers", i), people) for i, layer in enumerate(doc.layers)
        )
        names = [layer.name for layer in layers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(f"layer {name!r} is defined twice", *where, "layers", i, "name")
        overrides = tuple(
            Override(
                self.lookup("person", people, o.person, *where, "overrides", i, "person"),
                o.start.astimezone(UTC),
                o.end.astimezone(UTC),
            )
            for i, o in enumerate(doc.overrides)
        )
        self.no_overlap(overrides, where)
        return Schedule(doc.id, layers, overrides, team)

    def layer(self, doc: _LayerDoc, where: tuple[Any, ...], people: Mapping[str, Person]) -> Layer:
        members = tuple(
            self.lookup("person", people, name, *where, "people", i)
            for i, name in enumerate(doc.people)
        )
        windows = tuple(Window(w.days, w.start, _end_after(w.start, w.end)) for w in doc.coverage)
        return Layer(doc.name, doc.zone, members, doc.rotation, doc.start, windows)

    def no_overlap(self, overrides: tuple[Override, ...], where: tuple[Any, ...]) -> None:
        ordered = sorted(range(len(overrides)), key=lambda i: overrides[i].start)
        for first, then in pairwise(ordered):
            if overrides[then].start < overrides[first].end:
                other = yaml_line(self.document, (*where, "overrides", min(first, then)))
                raise self.fail(
                    f"override overlaps the one at line {other}: overrides may not overlap",
                    *where,
                    "overrides",
                    max(first, then),
                )

    def chain(self, doc: _ChainDoc, at: int, targets: _Targets) -> Chain:
        steps = tuple(
            Step(targets.resolve(self, s.notify, ("escalations", at, "steps", i, "notify")), s.wait)
            for i, s in enumerate(doc.steps)
        )
        return Chain(doc.id, steps, doc.repeat)


@dataclass(frozen=True)
class _Targets:
    people: Mapping[str, Person]
    teams: Mapping[str, Team]
    schedules: Mapping[str, Schedule]

    def resolve(self, builder: _Builder, doc: _TargetDoc, where: tuple[Any, ...]) -> Target:
        if doc.schedule is not None:
            return builder.lookup("schedule", self.schedules, doc.schedule, *where, "schedule")
        if doc.team is not None:
            return builder.lookup("team", self.teams, doc.team, *where, "team")
        return builder.lookup("person", self.people, doc.person or "", *where, "person")


def _end_after(start: timedelta, end: timedelta) -> timedelta:
    """A window ending at or before its start ends on the next day (22:00–06:00)."""
    return end if end > start else end + timedelta(days=1)
