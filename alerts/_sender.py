"""What everything that sends to receivers shares: the routing file, the receivers, the outbox
in Redis, the notification log, the metrics, and the clocks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import redis
from prometheus_client import CollectorRegistry

from ._log import NotificationLog
from ._metrics import NotifierMetrics
from ._outbox import Outbox
from ._routing import Routing
from .receivers import Receiver, build_receivers


class Sender:
    """The base of the notifier, the pager and the report sender.

    ``receivers`` replaces the ones the routing file describes (tests); ``metrics`` count
    what is sent (default: on a registry nobody serves); ``clock`` and ``sleep`` are the wall
    clock and the pause between attempts.
    """

    def __init__(
        self,
        routing: Routing,
        client: redis.Redis,
        prefix: str,
        *,
        receivers: Mapping[str, Receiver] | None = None,
        metrics: NotifierMetrics | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._routing = routing
        self._outbox = Outbox(client, prefix)
        self._metrics = metrics or NotifierMetrics(CollectorRegistry())
        self.log = NotificationLog(client, prefix, observe=self._metrics.logged)
        self._receivers = dict(receivers) if receivers is not None else build_receivers(routing)
        self._clock = clock
        self._sleep = sleep
