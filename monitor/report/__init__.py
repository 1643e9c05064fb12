"""Patrol reports: figures recorded while events are processed, daily and weekly reports per
time zone built from them and the tickets, rendered as HTML (inline SVG charts), Markdown and
JSON, and stored in Redis."""

from ._aggregates import Aggregates
from ._build import build_report
from ._model import Report
from ._period import Period, ReportError, daily, weekly
from ._recorder import ReportRecorder
from ._render import FORMATS, HEADLINE, Format, figure, render
from ._schedule import (
    ScheduleClock,
    ScheduledRun,
    ScheduleEntry,
    SystemClock,
    done_by,
    due_runs,
    next_run,
    parse_schedule,
    run_schedule,
)
from ._store import ReportStore

__all__ = [
    "FORMATS",
    "HEADLINE",
    "Aggregates",
    "Format",
    "Period",
    "Report",
    "ReportError",
    "ReportRecorder",
    "ReportStore",
    "ScheduleClock",
    "ScheduleEntry",
    "ScheduledRun",
    "SystemClock",
    "build_report",
    "daily",
    "done_by",
    "due_runs",
    "figure",
    "next_run",
    "parse_schedule",
    "render",
    "run_schedule",
    "weekly",
]
