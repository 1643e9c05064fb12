"""The exception hierarchy of Order Risk Monitor.

RiskMonitorError                 root: every error the product raises on purpose
 ├── EventError                  an input line is not a valid event (goes to the dead letters)
 ├── ImportMappingError          a CSV mapping file or an import cannot be carried out
 ├── StoreError                  the ticket or state store failed (Redis errors translated here)
 └── ConfigError                 settings are invalid

Rule files raise ``rules.RuleError``: ``rules/`` imports nothing of ours (DESIGN.md), so it
keeps its own root; the CLI treats both roots alike.
"""


class RiskMonitorError(Exception):
    """Root of every error raised on purpose by Order Risk Monitor."""


class EventError(RiskMonitorError):
    """An input line is not a valid event; ``reason`` is a short machine-friendly code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ImportMappingError(RiskMonitorError):
    """A mapping file is invalid or an export cannot be imported."""


class StoreError(RiskMonitorError):
    """The ticket or state store failed."""


class ConfigError(RiskMonitorError):
    """Settings are invalid."""
