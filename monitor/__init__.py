"""Order Risk Monitor's domain core: events, keyed state, engine, tickets, settings."""

from ._errors import ConfigError, EventError, ImportMappingError, RiskMonitorError, StoreError
from ._events import EVENT_TYPES, Event, parse_event, validate_event

__all__ = [
    "EVENT_TYPES",
    "ConfigError",
    "Event",
    "EventError",
    "ImportMappingError",
    "RiskMonitorError",
    "StoreError",
    "parse_event",
    "validate_event",
]
