"""Alerting: ticket changes routed to receivers (webhook, Slack, DingTalk, Feishu, email,
Alertmanager), grouped, silenced, retried, logged and never sent twice.

It imports ``monitor``; ``monitor`` never imports it (the CLI loads it on demand).
"""

from ._errors import AlertsError, DeliveryError, RoutingError
from ._labels import LABELS, labels_of, matches
from ._log import LogEntry, NotificationLog
from ._messages import Item, Message, compose
from ._notification import Notification, notify
from ._notifier import Notifier, notifier_for
from ._routing import Delivery, ReceiverConfig, Route, Routing, Smtp, load_routing
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
    "Receiver",
    "ReceiverConfig",
    "Route",
    "Routing",
    "RoutingError",
    "Silence",
    "SilenceStore",
    "Smtp",
    "build_receiver",
    "compose",
    "labels_of",
    "load_routing",
    "matches",
    "notifier_for",
    "notify",
    "parse_matchers",
]
