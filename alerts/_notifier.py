"""The notifier: ticket changes in, messages out, through the stages in order —
route → group (queued in Redis) → silence → dedup → retry → deliver — with every attempt logged;
changes routed to an escalation chain start it, and each flush sends its due steps (``Pager``).

Delivery runs on the wall clock (``clock``), not event time: intervals and backoff are about
people and receivers. A receiver that stays down keeps its notifications queued; each later
``flush`` (every batch, or ``riskmon alerts flush``) tries again once they are due.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import redis
from prometheus_client import CollectorRegistry

from monitor import Batch, Runtime, TicketChange, TicketStore

from ._errors import DeliveryError
from ._escalation import Pager
from ._labels import labels_of
from ._log import LogEntry, Result
from ._messages import compose
from ._metrics import NotifierMetrics
from ._notification import Notification, awaits_people, notified_as, notify
from ._outbox import Group
from ._retry import backoff, deliver, longest
from ._routing import Routing, load_routing
from ._sender import Sender
from ._silences import SilenceStore, muting
from .receivers import Receiver


class Notifier(Sender):
    """A pipeline observer that notifies receivers of ticket changes as the routing says
    (``receivers``, ``metrics``, ``clock``, ``sleep``: see ``Sender``; escalation steps fall
    due on ``clock`` too)."""

    def __init__(
        self,
        routing: Routing,
        client: redis.Redis,
        prefix: str,
        *,
        tickets: TicketStore,
        ticket_url: str,
        receivers: Mapping[str, Receiver] | None = None,
        metrics: NotifierMetrics | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            routing, client, prefix, receivers=receivers, metrics=metrics, clock=clock, sleep=sleep
        )
        self._tickets = tickets
        self._ticket_url = ticket_url
        self._silences = SilenceStore(client, prefix)
        self._pager = Pager(self, client, prefix, tickets=tickets, ticket_url=ticket_url)

    def observe(self, batch: Batch) -> None:
        """Queue the batch's ticket changes, then deliver whatever is due."""
        self.enqueue(batch.changes)
        self.flush()

    def enqueue(self, changes: Iterable[TicketChange]) -> None:
        """Queue a notification per change and route that takes it, and start the escalation
        chains the routes name; one seen before is not queued (nor started) again."""
        now = self._clock()
        grouped: dict[str, tuple[Group, list[Notification]]] = {}
        changes = list(changes)
        latest = {change.ticket.id: change.ticket for change in changes}
        for change in changes:
            kind = notified_as(change)
            if kind is None or latest[change.ticket.id].suppressed_by is not None:
                continue  # suppressed, or suppressed later in the same batch
            labels = labels_of(change.ticket, kind)
            routes = self._routing.routes_for(labels)
            if not routes:
                continue
            notification = notify(change.ticket, kind)
            for index, route in routes:
                if route.escalation is not None:
                    self._pager.start(notification, route.escalation, now)
                if route.receiver is None:
                    continue
                key = ",".join(f"{name}={labels[name]}" for name in route.group_by)
                group = Group.named(
                    index,
                    route.receiver,
                    key,
                    group_interval=route.group_interval,
                    repeat_interval=route.repeat_interval,
                )
                grouped.setdefault(group.id, (group, []))[1].append(notification)
        for group, notifications in grouped.values():
            self._outbox.put(group, notifications, now)

    def flush(self) -> None:
        """Deliver every group and escalation step that is due; another process busy with a
        group or a run is left to it."""
        now = self._clock()
        hold = longest(self._routing.delivery)
        down: set[str] = set()  # receivers that failed in this flush: their other groups wait
        for group_id in self._outbox.each_locked(self._outbox.due(now), seconds=hold):
            self._flush(group_id, now, down)
        self._pager.flush(now, down)

    def _flush(self, group_id: str, now: float, down: set[str]) -> None:
        group = self._outbox.group(group_id)
        if group is None:
            self._outbox.forget(group_id)
            return
        pending = self._outbox.pending(group) or self._reminders(group, now)
        kept = self._unsilenced(group, pending, now) if pending else []
        if kept and group.receiver in down:
            self._outbox.failed(group, retry_at=now + backoff(self._routing.delivery, 1))
        elif kept and not self._send(group, kept, now):
            down.add(group.receiver)
        self._settle(group_id, now)

    def _reminders(self, group: Group, now: float) -> list[Notification]:
        """Notifications again for the group's tickets still waiting for acknowledgement,
        once its repeat interval has passed since the last message."""
        if not group.tickets or now < group.last_sent + group.repeat_interval:
            return []
        found = (self._tickets.get(ticket_id) for ticket_id in group.tickets)
        waiting = [t for t in found if t is not None and awaits_people(t)]
        self._outbox.keep_tickets(group, [t.id for t in waiting])
        reminders = [notify(t, "repeated", occasion=f"{group.last_sent}") for t in waiting]
        self._outbox.put(group, reminders, now)
        return self._outbox.pending(group)

    def _unsilenced(
        self, group: Group, notifications: list[Notification], now: float
    ) -> list[Notification]:
        silences = self._silences.active(now)
        kept, silenced, entries = [], [], []
        for notification in notifications:
            silence = muting(silences, notification.labels)
            if silence is None:
                kept.append(notification)
                continue
            silenced.append(notification)
            entries.append(_entry(now, group, notification, "silenced", error=silence.id))
        self._outbox.done(group, silenced, sent_at=None)
        self.log.write(entries)
        return kept

    def _send(self, group: Group, notifications: list[Notification], now: float) -> bool:
        """Deliver one message for the group; whether the receiver took it."""
        receiver = self._receivers.get(group.receiver)
        config = self._routing.receiver(group.receiver)
        if receiver is None or config is None:
            error = DeliveryError(
                f"no receiver {group.receiver!r} in the routing file", retryable=False
            )
            self._record(group, notifications, 0, error)
            self._outbox.failed(group, retry_at=now + self._routing.delivery.max_backoff)
            return False
        message = compose(notifications, language=config.language, ticket_url=self._ticket_url)
        last = deliver(
            receiver,
            message,
            policy=self._routing.delivery,
            sleep=self._sleep,
            record=lambda attempt, error, seconds: self._record(
                group, notifications, attempt, error, seconds
            ),
        )
        if last is None:
            self._outbox.done(group, notifications, sent_at=self._clock())
            return True
        pause = backoff(self._routing.delivery, group.failures + 1)
        self._outbox.failed(group, retry_at=self._clock() + pause)
        return False

    def _record(
        self,
        group: Group,
        notifications: Sequence[Notification],
        attempt: int,
        error: DeliveryError | None,
        seconds: float | None = None,
    ) -> None:
        """Log one attempt (``seconds``: how long it took; none when nothing was tried)."""
        if seconds is not None:
            self._metrics.attempted(group.receiver, "ticket", seconds)
        result: Result = "sent" if error is None else "failed"
        at = self._clock()
        text = "" if error is None else str(error)
        self.log.write([_entry(at, group, n, result, attempt, text) for n in notifications])

    def _settle(self, group_id: str, now: float) -> None:
        """Make the group due when it next has something to do, or drop it."""
        group = self._outbox.group(group_id)
        if group is None:
            return
        if self._outbox.pending(group):
            self._outbox.wake_at(group, group.next_send(now))
        elif group.tickets:
            self._outbox.wake_at(group, group.last_sent + group.repeat_interval)
        else:
            self._outbox.forget(group_id)


def _entry(
    at: float,
    group: Group,
    notification: Notification,
    result: Result,
    attempt: int = 0,
    error: str = "",
) -> LogEntry:
    return LogEntry(
        at=at,
        receiver=group.receiver,
        notification=notification.id,
        ticket=notification.ticket["id"],
        change=notification.change,
        result=result,
        attempt=attempt,
        error=error,
    )


def notifier_for(runtime: Runtime, *, registry: CollectorRegistry | None = None) -> Notifier | None:
    """The notifier the settings ask for (``routes_file``), or ``None`` when there is none;
    its metrics are declared on ``registry`` when one is given (the one the CLI serves)."""
    path = runtime.settings.routes_file
    if path is None:
        return None
    return Notifier(
        load_routing(path),
        runtime.client,
        runtime.settings.redis_prefix,
        tickets=runtime.tickets,
        ticket_url=runtime.settings.ticket_url,
        metrics=NotifierMetrics(registry) if registry is not None else None,
    )
