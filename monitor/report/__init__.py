"""Patrol reports: figures recorded while events are processed, daily and weekly reports per
time zone built from them and the tickets, rendered as HTML (inline SVG charts), Markdown and
JSON, and stored in Redis."""

from ._aggregates import Aggregates
from ._build import build_report
from ._model import Report
from ._period import Period, ReportError, daily, weekly
from ._recorder import ReportRecorder
from ._render import FORMATS, Format, render
from ._store import ReportStore

__all__ = [
    "FORMATS",
    "Aggregates",
    "Format",
    "Period",
    "Report",
    "ReportError",
    "ReportRecorder",
    "ReportStore",
    "build_report",
    "daily",
    "render",
    "weekly",
]
