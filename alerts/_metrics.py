"""The alerting's Prometheus metrics, declared here on an injected registry (the one the CLI
serves; tests use a fresh one). Label values are bounded: receiver names come from the
routing file, kinds and results are fixed sets.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram

from ._log import LogEntry, NotificationKind

DELIVERY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NotifierMetrics:
    """Notifications by receiver, kind and result (one per notification log entry), and the
    wall time of each delivery attempt."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._notifications = Counter(
            "riskmon_notifications_total",
            "Notifications (ticket changes, reports) by receiver, kind and result: sent or"
            " failed per delivery attempt, or silenced.",
            ["receiver", "kind", "result"],
            registry=registry,
        )
        self._delivery_seconds = Histogram(
            "riskmon_notification_delivery_seconds",
            "Wall time of one delivery attempt of a message to a receiver, failed ones included.",
            ["receiver", "kind"],
            buckets=DELIVERY_BUCKETS,
            registry=registry,
        )

    def logged(self, entries: Sequence[LogEntry]) -> None:
        """Count notification log entries."""
        for (receiver, kind, result), count in Tally(
            (e.receiver, e.kind, e.result) for e in entries
        ).items():
            self._notifications.labels(receiver, kind, result).inc(count)

    def attempted(self, receiver: str, kind: NotificationKind, seconds: float) -> None:
        """Observe one delivery attempt."""
        self._delivery_seconds.labels(receiver, kind).observe(seconds)
