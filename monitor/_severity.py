"""Severity levels and their service-level targets (acknowledge and resolve times)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rules import SEVERITIES, RuleError, parse_duration

from ._errors import ConfigError


@dataclass(frozen=True)
class Sla:
    """How long a ticket of one severity may wait to be acknowledged and to be resolved."""

    acknowledge: float
    resolve: float


DEFAULT_SLA_TEXT: dict[str, dict[str, str]] = {
    "P0": {"acknowledge": "15m", "resolve": "2h"},
    "P1": {"acknowledge": "30m", "resolve": "4h"},
    "P2": {"acknowledge": "2h", "resolve": "24h"},
    "P3": {"acknowledge": "8h", "resolve": "72h"},
}


@dataclass(frozen=True)
class SeverityPolicy:
    """The SLA of every severity."""

    slas: Mapping[str, Sla]

    def sla(self, severity: str) -> Sla:
        """The SLA of ``severity`` (one of P0–P3)."""
        return self.slas[severity]

    @classmethod
    def from_text(cls, text: Mapping[str, Mapping[str, str]]) -> SeverityPolicy:
        """Build from durations as written in settings; missing severities keep defaults."""
        merged = {level: dict(DEFAULT_SLA_TEXT[level]) for level in SEVERITIES}
        for level, targets in text.items():
            if level not in merged:
                raise ConfigError(f"unknown severity {level!r} in the SLA policy (P0–P3)")
            unknown = set(targets) - {"acknowledge", "resolve"}
            if unknown:
                names = ", ".join(sorted(unknown))
                raise ConfigError(f"SLA policy {level}: unknown {names} (acknowledge, resolve)")
            merged[level].update(targets)
        try:
            slas = {
                level: Sla(parse_duration(t["acknowledge"]), parse_duration(t["resolve"]))
                for level, t in merged.items()
            }
        except RuleError as error:
            raise ConfigError(f"SLA policy: {error}") from None
        for level, sla in slas.items():
            if sla.acknowledge > sla.resolve:
                raise ConfigError(f"SLA policy {level}: acknowledge is later than resolve")
        return cls(slas)


DEFAULT_POLICY = SeverityPolicy.from_text({})
