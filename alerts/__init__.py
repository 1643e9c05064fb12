"""Alerting: ticket changes routed to receivers (webhook, Slack, DingTalk, Feishu, email,
Alertmanager), grouped, silenced, retried, logged and never sent twice; escalation chains
paging the people on call step by step; patrol reports sent to the receivers named for them,
the same way.

It imports ``monitor``; ``monitor`` never imports it (the CLI loads it on demand).
"""

from ._errors import AlertsError, DeliveryError, RoutingError
from ._labels import LABELS, labels_of, matches
from ._log import LogEntry, NotificationLog
from ._messages import Item, Message, Page, ReportContent, compose, compose_report
from ._metrics import NotifierMetrics
from ._notification import Notification, notify
from ._notifier import Notifier, notifier_for
from ._oncall import OnCall, ScheduleError, load_oncall
from ._reports import ReportNotifier, report_notifier_for
from ._routing import Delivery, ReceiverConfig, ReportRoute, Route, Routing, Smtp, load_routing
from ._silences import Silence, SilenceStore, parse_matchers
from .receivers import RECEIVERS, Receiver, build_receiver

__all__ = [
    "LABELS",
    "RECEIVERS",
    "AlertsError",
    "Delivery",
    "DeliveryError",
    "Item",
    "LogEntry",
    "Message",
    "Notification",
    "NotificationLog",
    "Notifier",
    "NotifierMetrics",
    "OnCall",
    "Page",
    "Receiver",
    "ReceiverConfig",
    "ReportContent",
    "ReportNotifier",
    "ReportRoute",
    "Route",
    "Routing",
    "RoutingError",
    "ScheduleError",
    "Silence",
    "SilenceStore",
    "Smtp",
    "build_receiver",
    "compose",
    "compose_report",
    "labels_of",
    "load_oncall",
    "load_routing",
    "matches",
    "notifier_for",
    "notify",
    "parse_matchers",
    "report_notifier_for",
]
