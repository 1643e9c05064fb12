"""Order Risk Monitor's domain core: events, keyed state, engine, tickets, metrics, settings."""

from ._actions import Action, Escalation, Occurrence, Resolution, SlaCheck
from ._calendar import parse_days, parse_local_time, parse_zone
from ._checkpoint import RedisCheckpoint
from ._dead_letters import DeadLetter, DeadLetterSink, FileDeadLetters
from ._engine import Engine
from ._errors import ConfigError, EventError, ImportMappingError, RiskMonitorError, StoreError
from ._events import EVENT_TYPES, Event, parse_event, validate_event
from ._metrics import PipelineMetrics, TicketMetrics
from ._metrics_http import serving_metrics
from ._pipeline import (
    Batch,
    Checkpoint,
    Pipeline,
    PipelineObserver,
    RawRecord,
    RunStats,
    StatefulCheckpoint,
    event_digest,
    parse_records,
)
from ._redis import connect
from ._routing import assign, owner
from ._rule_examples import ExampleResult, run_examples
from ._runtime import Runtime, open_runtime
from ._settings import DEFAULT_TOPICS, Settings, load_settings
from ._severity import DEFAULT_POLICY, SeverityPolicy, Sla
from ._state import MemoryState, RedisStateStore, StateStore, Timer
from ._ticket_store import MemoryTicketStore, RedisTicketStore, TicketChange, TicketStore
from ._tickets import WAITING_FOR_ACK, Change, Ticket, iso, ticket_id

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_TOPICS",
    "EVENT_TYPES",
    "WAITING_FOR_ACK",
    "Action",
    "Batch",
    "Change",
    "Checkpoint",
    "ConfigError",
    "DeadLetter",
    "DeadLetterSink",
    "Engine",
    "Escalation",
    "Event",
    "EventError",
    "ExampleResult",
    "FileDeadLetters",
    "ImportMappingError",
    "MemoryState",
    "MemoryTicketStore",
    "Occurrence",
    "Pipeline",
    "PipelineMetrics",
    "PipelineObserver",
    "RawRecord",
    "RedisCheckpoint",
    "RedisStateStore",
    "RedisTicketStore",
    "Resolution",
    "RiskMonitorError",
    "RunStats",
    "Runtime",
    "Settings",
    "SeverityPolicy",
    "Sla",
    "SlaCheck",
    "StateStore",
    "StatefulCheckpoint",
    "StoreError",
    "Ticket",
    "TicketChange",
    "TicketMetrics",
    "TicketStore",
    "Timer",
    "assign",
    "connect",
    "event_digest",
    "iso",
    "load_settings",
    "open_runtime",
    "owner",
    "parse_days",
    "parse_event",
    "parse_local_time",
    "parse_records",
    "parse_zone",
    "run_examples",
    "serving_metrics",
    "ticket_id",
    "validate_event",
]
