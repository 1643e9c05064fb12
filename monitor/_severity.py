"""Severity levels and their service-level targets: acknowledge and resolve times, when to
warn before a breach, whether a breach raises the severity; optionally counted in the owning
team's business hours."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from rules import SEVERITIES, RuleError, parse_duration

from ._calendar import Calendar, due_after
from ._errors import ConfigError

SlaKind: TypeAlias = Literal["acknowledge", "resolve"]
_FIELDS = ("acknowledge", "resolve", "warning", "raise_on_breach")


@dataclass(frozen=True)
class Sla:
    """How long a ticket of one severity may wait to be acknowledged and to be resolved;
    the share of each wait after which a warning goes out (0 = none); whether a breach
    raises the ticket's severity one step."""

    acknowledge: float
    resolve: float
    warning: float = 0.8
    raise_on_breach: bool = False


@dataclass(frozen=True)
class Deadline:
    """When one SLA clock runs out, and when it warns (``None``: no warning)."""

    due: float
    warn: float | None


DEFAULT_SLA_TEXT: dict[str, dict[str, str]] = {
    "P0": {"acknowledge": "15m", "resolve": "2h"},
    "P1": {"acknowledge": "30m", "resolve": "4h"},
    "P2": {"acknowledge": "2h", "resolve": "24h"},
    "P3": {"acknowledge": "8h", "resolve": "72h"},
}


@dataclass(frozen=True)
class SeverityPolicy:
    """The SLA of every severity, and the business-hours calendar of the teams that have one."""

    slas: Mapping[str, Sla]
    calendars: Mapping[str, Calendar] = field(default_factory=dict)

    def sla(self, severity: str) -> Sla:
        """The SLA of ``severity`` (one of P0–P3)."""
        return self.slas[severity]

    def deadlines(self, severity: str, team: str, since: float) -> dict[SlaKind, Deadline]:
        """The due and warning times of a ticket's clocks started at ``since``: the one
        place they are computed, in the team's business hours if it has a calendar."""
        sla, calendar = self.sla(severity), self.calendars.get(team)
        waits: dict[SlaKind, float] = {"acknowledge": sla.acknowledge, "resolve": sla.resolve}
        found: dict[SlaKind, Deadline] = {}
        for kind, wait in waits.items():
            warn = due_after(since, wait * sla.warning, calendar) if sla.warning else None
            found[kind] = Deadline(due_after(since, wait, calendar), warn)
        return found

    @classmethod
    def from_text(
        cls,
        text: Mapping[str, Mapping[str, object]],
        *,
        calendars: Mapping[str, Calendar] | None = None,
    ) -> SeverityPolicy:
        """Build from the ``sla`` setting (missing severities and fields keep their
        defaults) and the teams' calendars; ``ConfigError`` naming the severity and field."""
        merged: dict[str, dict[str, object]] = {
            level: dict(DEFAULT_SLA_TEXT[level]) for level in SEVERITIES
        }
        for level, targets in text.items():
            if level not in merged:
                raise ConfigError(f"unknown severity {level!r} in the SLA policy (P0–P3)")
            unknown = set(targets) - set(_FIELDS)
            if unknown:
                names = ", ".join(sorted(unknown))
                raise ConfigError(f"SLA policy {level}: unknown {names} ({', '.join(_FIELDS)})")
            merged[level].update(targets)
        slas = {level: _sla(level, targets) for level, targets in merged.items()}
        return cls(slas, dict(calendars or {}))


def _sla(level: str, targets: Mapping[str, object]) -> Sla:
    try:
        acknowledge = parse_duration(str(targets["acknowledge"]))
        resolve = parse_duration(str(targets["resolve"]))
    except RuleError as error:
        raise ConfigError(f"SLA policy {level}: {error}") from None
    if acknowledge > resolve:
        raise ConfigError(f"SLA policy {level}: acknowledge is later than resolve")
    raises = targets.get("raise_on_breach", False)
    if not isinstance(raises, bool):
        raise ConfigError(f"SLA policy {level}: raise_on_breach is true or false, not {raises!r}")
    if raises and level == SEVERITIES[0]:
        raise ConfigError(f"SLA policy {level}: raise_on_breach, but {level} is the highest")
    return Sla(acknowledge, resolve, _share(level, targets.get("warning", "80%")), raises)


def _share(level: str, value: object) -> float:
    """The warning share: ``"80%"`` or ``0.8``; 0 means no warning."""
    share = -1.0  # refused unless it reads as a share
    if isinstance(value, str) and value.strip().endswith("%"):
        with suppress(ValueError):
            share = float(value.strip()[:-1]) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        share = float(value)
    if not 0 <= share < 1:
        raise ConfigError(
            f"SLA policy {level}: warning {value!r} is not a share below 100 %, "
            'write e.g. "80%" or 0.8 (0 = no warning)'
        )
    return share


DEFAULT_POLICY = SeverityPolicy.from_text({})
