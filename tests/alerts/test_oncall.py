"""On-call schedules and escalation chains: handovers across the 2026 daylight-saving changes
in Europe/Berlin (03-29, 10-25) and America/New_York (03-08, 11-01), coverage windows at
local times that do not exist or happen twice, follow-the-sun with Asia/Shanghai, overrides,
escalation timing, and schedule files refused at ``file:line``.

Expected instants are written out in UTC by hand rather than computed with zoneinfo, so the
tests do not share the code's arithmetic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts._oncall import (
    Chain,
    Layer,
    OnCall,
    Override,
    Person,
    Schedule,
    ScheduleError,
    Shift,
    Step,
    Team,
    Window,
    chain_step_at,
    load_oncall,
    read_oncall,
    recipients,
    shifts,
    who_is_on_call,
)

EXAMPLE = Path(__file__).parents[2] / "alerts" / "packs" / "oncall.example.yaml"
A, B, C, D = (Person(name, name) for name in "abcd")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def daily(zone: str, start: str, people: tuple[Person, ...] = (A, B, C), **kw: object) -> Layer:
    return Layer(
        name=zone,
        zone=ZoneInfo(zone),
        people=people,
        rotation=timedelta(days=1),
        start=datetime.fromisoformat(start),
        **kw,  # type: ignore[arg-type]  # only `coverage` is passed
    )


def window(start: str, end: str, days: str = "0123456") -> Window:
    def offset(text: str) -> timedelta:
        hours, minutes = text.split(":")
        return timedelta(hours=int(hours), minutes=int(minutes))

    first, last = offset(start), offset(end)
    return Window(frozenset(map(int, days)), first, last if last > first else last + timedelta(1))


# ── rotations across the clock changes ────────────────────────────────────────────────────

# zone, change day, handovers at 09:00 local on the day before, the day of and the day after
# the change, in UTC; the shift across the change night is 23 h (spring) or 25 h (fall).
CHANGES = [
    ("Europe/Berlin", "2026-03-29", ["03-28T08:00", "03-29T07:00", "03-30T07:00"], 23),
    ("Europe/Berlin", "2026-10-25", ["10-24T07:00", "10-25T08:00", "10-26T08:00"], 25),
    ("America/New_York", "2026-03-08", ["03-07T14:00", "03-08T13:00", "03-09T13:00"], 23),
    ("America/New_York", "2026-11-01", ["10-31T13:00", "11-01T14:00", "11-02T14:00"], 25),
]


@pytest.mark.parametrize(("zone", "day", "handovers", "hours"), CHANGES)
def test_daily_handover_stays_at_nine_local(
    zone: str, day: str, handovers: list[str], hours: int
) -> None:
    schedule = Schedule("s", (daily(zone, "2026-01-01T09:00"),))
    expected = [utc(f"2026-{h}") for h in handovers]
    found = shifts(schedule, expected[0] - timedelta(hours=1), expected[-1] + timedelta(hours=1))
    assert [s.start for s in found[1:]] == expected
    assert [s.start.astimezone(ZoneInfo(zone)).hour for s in found[1:]] == [9, 9, 9]
    assert found[1].end - found[1].start == timedelta(hours=hours)
    assert found[2].end - found[2].start == timedelta(hours=24)
    assert who_is_on_call(schedule, expected[1] - timedelta(seconds=1)) == found[1].person
    assert who_is_on_call(schedule, expected[1]) == found[2].person


def test_rotation_counts_turns_on_the_local_calendar() -> None:
    # Started 2026-03-25 09:00 in Berlin with a, b, c: the 29th (spring forward) is b's turn.
    schedule = Schedule("s", (daily("Europe/Berlin", "2026-03-25T09:00"),))
    assert who_is_on_call(schedule, utc("2026-03-25T07:59")) is None  # before the start
    assert who_is_on_call(schedule, utc("2026-03-25T08:00")) == A
    assert who_is_on_call(schedule, utc("2026-03-29T06:59")) == A
    assert who_is_on_call(schedule, utc("2026-03-29T07:00")) == B
    assert who_is_on_call(schedule, utc("2026-03-30T07:00")) == C


def test_twelve_hour_rotation_keeps_local_handover_times() -> None:
    layer = Layer("ny", ZoneInfo("America/New_York"), (A, B), timedelta(hours=12),
                  datetime(2026, 3, 1, 8, 0))  # fmt: skip
    found = shifts(Schedule("s", (layer,)), utc("2026-03-07T12:00"), utc("2026-03-09T13:00"))
    local = [s.start.astimezone(ZoneInfo("America/New_York")).hour for s in found[1:]]
    assert local == [8, 20, 8, 20, 8]
    assert [s.end - s.start for s in found[1:3]] == [timedelta(hours=12), timedelta(hours=11)]


def test_any_aware_zone_gives_the_same_answer_and_naive_is_refused() -> None:
    schedule = Schedule("s", (daily("Europe/Berlin", "2026-03-25T09:00"),))
    moment = utc("2026-03-29T07:00")
    assert who_is_on_call(schedule, moment.astimezone(ZoneInfo("Asia/Shanghai"))) == B
    assert who_is_on_call(schedule, moment.astimezone(ZoneInfo("Europe/Berlin"))) == B
    with pytest.raises(ValueError, match="aware"):
        who_is_on_call(schedule, datetime(2026, 3, 29, 9, 0))
    with pytest.raises(ValueError, match="aware"):
        shifts(schedule, datetime(2026, 3, 29), utc("2026-03-30T00:00"))


# ── coverage windows at times that do not exist or happen twice ───────────────────────────

# A night layer covers `from`–06:00 local on top of a 24 h base. fold=0: a nonexistent start
# (spring forward) lands as far after the gap as it was into it (02:30 → 03:30 summer time);
# an ambiguous one (fall back) is its first occurrence, on summer time.
WINDOWS = [
    ("Europe/Berlin", "02:30", "2026-03-29", "01:30", "04:00"),  # 03:30 CEST – 06:00 CEST
    ("Europe/Berlin", "02:30", "2026-10-25", "00:30", "05:00"),  # 02:30 CEST – 06:00 CET
    ("America/New_York", "02:30", "2026-03-08", "07:30", "10:00"),  # 03:30 EDT – 06:00 EDT
    ("America/New_York", "01:30", "2026-11-01", "05:30", "11:00"),  # 01:30 EDT – 06:00 EST
]


@pytest.mark.parametrize(("zone", "opens", "day", "start", "end"), WINDOWS)
def test_window_at_a_missing_or_doubled_local_time(
    zone: str, opens: str, day: str, start: str, end: str
) -> None:
    base = daily(zone, "2026-01-01T09:00", (A,))
    night = daily(zone, "2026-01-01T00:00", (D,), coverage=(window(opens, "06:00"),))
    schedule = Schedule("s", (base, night))
    begins, ends = utc(f"{day}T{start}"), utc(f"{day}T{end}")
    assert who_is_on_call(schedule, begins - timedelta(minutes=1)) == A
    assert who_is_on_call(schedule, begins) == D
    assert who_is_on_call(schedule, ends - timedelta(minutes=1)) == D
    assert who_is_on_call(schedule, ends) == A
    found = shifts(schedule, utc(f"{day}T00:00") - timedelta(hours=1), utc(f"{day}T12:00"))
    assert Shift(D, begins, ends) in found


@pytest.mark.parametrize(("zone", "day"), [("Europe/Berlin", "2026-03-29"),
                                           ("America/New_York", "2026-03-08"),
                                           ("Europe/Berlin", "2026-10-25"),
                                           ("America/New_York", "2026-11-01")])  # fmt: skip
def test_windows_meeting_at_a_missing_time_leave_no_gap(zone: str, day: str) -> None:
    # Two layers that share the local day at 02:30 and 06:00, with no base under them.
    night = daily(zone, "2026-01-01T00:00", (D,), coverage=(window("02:30", "06:00"),))
    rest = daily(zone, "2026-01-01T00:00", (A,), coverage=(window("06:00", "02:30"),))
    start = utc(f"{day}T00:00") - timedelta(days=1)
    found = shifts(Schedule("s", (night, rest)), start, start + timedelta(days=3))
    assert all(s.person is not None for s in found)
    assert [s.person for s in found] == [A, D, A, D, A, D, A]


# ── follow the sun ────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def oncall() -> OnCall:
    return load_oncall(EXAMPLE)


@pytest.mark.parametrize(
    ("at", "who"),
    [
        # Winter: Shanghai 09–21 (01–13 UTC), Berlin 14–20 CET (13–19), New York 14–20 EST (19–01).
        ("2026-01-14T02:00", "wang.fang"),
        ("2026-01-14T13:30", "jonas"),
        ("2026-01-14T19:30", "sam"),
        ("2026-01-15T00:30", "sam"),
        # 2026-03-08 … 03-29: New York on summer time, Berlin not yet.
        ("2026-03-16T13:30", "anna"),  # Berlin 14:30 CET
        ("2026-03-16T18:30", "maria"),  # Berlin 19:30 and New York 14:30: the later layer wins
        ("2026-03-17T00:30", "ops.lead"),  # New York 20:30 EDT: its window is over → backstop
        # Summer: Berlin 14:30 CEST and Shanghai 20:30 overlap; Shanghai is listed later.
        ("2026-07-15T12:30", "wang.fang"),
        ("2026-07-15T00:30", "ops.lead"),
        # Override (12:00–19:00 UTC on 03-09) beats Shanghai, Berlin and New York.
        ("2026-03-09T12:30", "jonas"),
        ("2026-03-09T18:59", "jonas"),
        ("2026-03-09T19:00", "sam"),
    ],
)
def test_follow_the_sun(oncall: OnCall, at: str, who: str) -> None:
    person = who_is_on_call(oncall.schedules["ops-follow-the-sun"], utc(at))
    assert person is not None and person.id == who


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-01-14", [("sam", 0), ("wang.fang", 1), ("jonas", 13), ("sam", 19)]),
        ("2026-03-16", [("ops.lead", 0), ("li.wei", 1), ("anna", 13), ("maria", 18)]),
    ],
)
def test_follow_the_sun_day(oncall: OnCall, day: str, expected: list[tuple[str, int]]) -> None:
    start = utc(f"{day}T00:00")
    found = shifts(oncall.schedules["ops-follow-the-sun"], start, start + timedelta(days=1))
    assert [(s.person.id if s.person else None, s.start.hour) for s in found] == expected
    assert found[-1].end == start + timedelta(days=1)
    assert all(a.end == b.start for a, b in pairwise(found))


def test_override_wins_and_its_edges_are_handovers() -> None:
    override = Override(D, utc("2026-03-29T06:00"), utc("2026-03-29T10:00"))
    schedule = Schedule("s", (daily("Europe/Berlin", "2026-03-25T09:00"),), (override,))
    found = shifts(schedule, utc("2026-03-29T00:00"), utc("2026-03-29T12:00"))
    assert found == [
        Shift(A, utc("2026-03-29T00:00"), utc("2026-03-29T06:00")),
        Shift(D, utc("2026-03-29T06:00"), utc("2026-03-29T10:00")),
        Shift(B, utc("2026-03-29T10:00"), utc("2026-03-29T12:00")),
    ]


def test_nobody_is_a_shift_too() -> None:
    layer = daily("Asia/Shanghai", "2026-01-01T00:00", (C,), coverage=(window("09:00", "21:00"),))
    found = shifts(Schedule("s", (layer,)), utc("2026-01-14T00:00"), utc("2026-01-15T00:00"))
    assert [(s.person, s.start.hour) for s in found] == [(None, 0), (C, 1), (None, 13)]


# ── escalation ────────────────────────────────────────────────────────────────────────────

OPENED = utc("2026-03-08T10:00")


def _chain(oncall: OnCall) -> Chain:
    return oncall.chains["p0"]  # waits 5m, 10m, 15m; repeat 2


@pytest.mark.parametrize(
    ("now", "due", "next_at"),
    [
        ("10:00", [(0, 0)], "10:05"),
        ("10:07", [(0, 0), (0, 1)], "10:15"),
        ("10:30", [(0, 0), (0, 1), (0, 2), (1, 0)], "10:35"),
        ("11:25", [(r, i) for r in range(3) for i in range(3)], None),
        ("09:59", [], "10:00"),
    ],
)
def test_chain_steps_fall_due(oncall: OnCall, now: str, due: list, next_at: str | None) -> None:
    state = chain_step_at(_chain(oncall), OPENED, utc(f"2026-03-08T{now}"))
    assert [(d.round, d.index) for d in state.due] == due
    assert state.next_at == (utc(f"2026-03-08T{next_at}") if next_at else None)
    assert not state.acknowledged


def test_acknowledgement_stops_the_chain(oncall: OnCall) -> None:
    chain, later = _chain(oncall), utc("2026-03-08T12:00")
    state = chain_step_at(chain, OPENED, later, acknowledged_at=utc("2026-03-08T10:06"))
    assert [(d.round, d.index) for d in state.due] == [(0, 0), (0, 1)]
    assert state.acknowledged and state.next_at is None
    assert state.latest is not None and state.latest.step.target == oncall.people["ops.lead"]
    exactly = chain_step_at(chain, OPENED, later, acknowledged_at=utc("2026-03-08T10:05"))
    assert [(d.round, d.index) for d in exactly.due] == [(0, 0)]
    # An acknowledgement after `now` has not happened yet at `now`.
    early = chain_step_at(
        chain, OPENED, utc("2026-03-08T10:10"), acknowledged_at=utc("2026-03-08T10:20")
    )
    assert not early.acknowledged and early.next_at == utc("2026-03-08T10:15")


def test_chain_times_are_elapsed_across_a_clock_change() -> None:
    chain = Chain("c", (Step(A, timedelta(hours=1)), Step(B, timedelta(hours=1))))
    opened = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 00:30 UTC
    state = chain_step_at(chain, opened, opened)
    assert state.next_at == utc("2026-03-29T01:30")  # 03:30 CEST: one hour later, not two
    with pytest.raises(ValueError, match="aware"):
        chain_step_at(chain, datetime(2026, 3, 29), opened)


def test_recipients(oncall: OnCall) -> None:
    at = utc("2026-01-14T02:00")
    steps = _chain(oncall).steps
    assert [p.id for p in recipients(steps[0].target, at)] == ["wang.fang"]
    assert [p.id for p in recipients(steps[1].target, at)] == ["ops.lead"]
    assert len(recipients(steps[2].target, at)) == 6
    assert isinstance(steps[2].target, Team)
    empty = Schedule("e", (daily("UTC", "2030-01-01T00:00"),))
    assert recipients(empty, at) == ()


def test_example_file_contents(oncall: OnCall) -> None:
    assert oncall.people["maria"].contacts == {"slack": "@maria"}
    schedule = oncall.schedules["ops-follow-the-sun"]
    assert [layer.name for layer in schedule.layers] == ["backstop", "europe", "americas", "asia"]
    assert schedule.team == oncall.teams["ops"]
    assert schedule.overrides[0].start == utc("2026-03-09T12:00")
    assert _chain(oncall).repeat == 2


# ── files refused at file:line ────────────────────────────────────────────────────────────

GOOD = """\
people:
  - {id: a}
  - {id: b}
schedules:
  - id: s
    layers:
      - name: day
        zone: Europe/Berlin
        rotation: 1d
        start: 2026-03-01T09:00
        people: [a, b]
        coverage:
          - {days: mon-fri, from: "09:00", to: "17:00"}
"""

OVERRIDES = """\
    overrides:
      - {person: a, start: 2026-03-29T09:00:00+02:00, end: 2026-03-29T12:00:00+02:00}
"""

BAD = [
    ("zone: Europe/Berlin", "zone: Europe/Berlni", 8, "unknown time zone 'Europe/Berlni'"),
    ("zone: Europe/Berlin", "zone: ../../etc/passwd", 8, "unknown time zone"),
    ("start: 2026-03-01T09:00", "start: 2026-03-01T09:00:00+01:00", 10, "without an offset"),
    ("rotation: 1d", "rotation: 1 fortnight", 9, "not a duration"),
    ("rotation: 1d", "rotation: 30m", 9, "at least 1h"),
    (
        'to: "17:00"}\n',
        'to: "17:00"}\n      - {name: day, zone: UTC, rotation: 1d, '
        "start: 2026-03-01T00:00, people: [a]}\n",
        14,
        "layer 'day' is defined twice",
    ),
    ("people: [a, b]", "people: [a, c]", 11, "no person 'c'; defined: a, b"),
    ("people: [a, b]", "people: []", 11, "at least 1 item"),
    ('from: "09:00"', 'from: "9am"', 13, "'9am' is not a local time"),
    ('to: "17:00"', 'to: "09:00"', 13, "the same time"),
    ("mon-fri", "mon-fry", 13, "'mon-fry' is not a day"),
    ("  - {id: b}", "  - {id: a}", 3, "people id 'a' is defined twice"),
    ("      - name: day", "      - nmae: day", 7, "nmae: Extra inputs are not permitted"),
    ("        people: [a, b]", "\tpeople: [a, b]", 11, "not valid YAML"),
    ("  - id: s\n", "  - id: s\n    team: ops\n", 6, "no team 'ops'; defined: none"),
]

BAD_OVERRIDES = [
    ("end: 2026-03-29T12:00:00+02:00", "end: 2026-03-29T08:00:00+02:00", 15, "after 'start'"),
    ("start: 2026-03-29T09:00:00+02:00", "start: 2026-03-29T09:00:00", 15, "timezone info"),
    ("person: a", "person: z", 15, "no person 'z'"),
    (
        "12:00:00+02:00}\n",
        "12:00:00+02:00}\n      - {person: b, start: 2026-03-29T11:00:00+02:00, "
        "end: 2026-03-29T13:00:00+02:00}\n",
        16,
        "overlaps the one at line 15",
    ),
]


def _refused(text: str) -> ScheduleError:
    with pytest.raises(ScheduleError) as caught:
        read_oncall(text, file="oncall.yaml")
    return caught.value


@pytest.mark.parametrize(("old", "new", "line", "message"), BAD)
def test_bad_schedule_is_refused_at_its_line(old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    error = _refused(GOOD.replace(old, new, 1))
    assert error.line == line
    assert str(error).startswith(f"oncall.yaml:{line}: ")
    assert message in str(error)


@pytest.mark.parametrize(("old", "new", "line", "message"), BAD_OVERRIDES)
def test_bad_override_is_refused_at_its_line(old: str, new: str, line: int, message: str) -> None:
    text = GOOD + OVERRIDES
    assert old in text
    error = _refused(text.replace(old, new, 1))
    assert (error.line, message in str(error)) == (line, True), str(error)


ESCALATIONS = """\
escalations:
  - id: p0
    steps:
      - {notify: {schedule: s}, wait: 5m}
      - {notify: {person: b}, wait: 10m}
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("{schedule: s}", "{schedule: night}", 17, "no schedule 'night'; defined: s"),
        ("{person: b}", "{person: b, team: t}", 18, "exactly one of"),
        ("wait: 10m", "wait: soon", 18, "not a duration"),
        ("  - id: p0\n", "  - id: p0\n    repeat: -1\n", 16, "greater than or equal to 0"),
    ],
)
def test_bad_escalation_is_refused_at_its_line(old: str, new: str, line: int, message: str) -> None:
    text = GOOD + ESCALATIONS
    assert old in text
    error = _refused(text.replace(old, new, 1))
    assert (error.line, message in str(error)) == (line, True), str(error)


def test_good_file_loads_and_empty_or_odd_files_are_refused(tmp_path: Path) -> None:
    loaded = read_oncall(GOOD + OVERRIDES + ESCALATIONS, file="oncall.yaml")
    layer = loaded.schedules["s"].layers[0]
    assert layer.coverage == (window("09:00", "17:00", "01234"),)
    assert layer.start == datetime(2026, 3, 1, 9, 0)
    assert _refused("- just a list\n").line == 1
    assert "people" in str(_refused("schedules: []\n"))
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("Europe/Berlin", "Mars/Olympus"), encoding="utf-8")
    with pytest.raises(ScheduleError, match=rf"^{re.escape(str(path))}:8: .*Mars/Olympus"):
        load_oncall(path)
