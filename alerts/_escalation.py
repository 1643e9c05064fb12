"""Escalation chains on the wall clock: a ticket change routed to a chain starts a run; each
flush sends the steps that fell due since (``chain_step_at``) to every receiver that
addresses the people on call, until the ticket is acknowledged or resolved.

Who a step reaches is asked at send time (``recipients``). A step goes to each receiver once
(its id: ticket, chain, opening, round, step index). A receiver that fails is retried with
backoff like ticket changes, and the step waits for it (later steps go too once it answers);
a failure retrying cannot help (nobody on call has an address of the receiver's kind) is
logged and not retried: the next step escalates. Silences mute steps as they mute changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from monitor import TicketStore

from ._errors import DeliveryError
from ._log import LogEntry, Result
from ._messages import Page, compose
from ._notification import Notification, awaits_people, notify
from ._oncall import Chain, DueStep, Schedule, Team, chain_step_at, recipients
from ._retry import backoff, deliver, longest
from ._runs import Run, RunStore
from ._sender import Sender
from ._silences import SilenceStore, muting


class Pager(Sender):
    """Starts escalation runs and sends their due steps; ``Notifier`` drives it and shares
    its receivers, notification log, metrics and clocks."""

    def __init__(
        self, notifier: Sender, client: redis.Redis, prefix: str, *, tickets: TicketStore,
        ticket_url: str,
    ) -> None:  # fmt: skip
        super().__init__(
            notifier._routing, client, prefix, receivers=notifier._receivers,
            metrics=notifier._metrics, clock=notifier._clock, sleep=notifier._sleep,
        )  # fmt: skip
        routing = self._routing
        self._chains = routing.oncall.chains if routing.oncall else {}
        self._pagers = [c.name for c in routing.oncall_receivers() if c.name in self._receivers]
        self._runs = RunStore(client, prefix)
        self._silences = SilenceStore(client, prefix)
        self._tickets = tickets
        self._ticket_url = ticket_url

    def start(self, notification: Notification, chain: str, now: float) -> None:
        """Start ``chain`` for the notification's ticket unless this opening already has; a
        breach brings the chain's next step forward to now (once per breach)."""
        run = Run.of(notification, chain, now=now)
        self._runs.start(run)
        if notification.change == "breached":
            self._hasten(run.id, notification.id, now)

    def _hasten(self, run_id: str, breach: str, now: float) -> None:
        run = self._runs.run(run_id)
        chain = self._chains.get(run.chain) if run else None
        if run is None or chain is None:
            return
        state = chain_step_at(chain, _moment(run.started), _moment(now))
        if state.next_at is not None:
            early = state.next_at.timestamp() - now
            self._runs.hasten(run, breach, started=run.started - early, now=now)

    def flush(self, now: float, down: set[str]) -> None:
        """Send the steps due at ``now``; receivers in ``down`` (failed in this flush) and
        those that fail now wait for their backoff."""
        hold = longest(self._routing.delivery)
        for run_id in self._outbox.each_locked(self._runs.due(now), seconds=hold):
            self._advance(run_id, now, down)

    def _advance(self, run_id: str, now: float, down: set[str]) -> None:
        run = self._runs.run(run_id)
        ticket = self._tickets.get(run.ticket) if run else None
        chain = self._chains.get(run.chain) if run else None
        if run is None or ticket is None or chain is None or not awaits_people(ticket):
            self._runs.forget(run_id)  # acknowledged, resolved, suppressed, or its chain is gone
            return
        state = chain_step_at(chain, _moment(run.started), _moment(now))
        notification = notify(ticket, run.change)
        silence = muting(self._silences.active(now), notification.labels)
        held = False
        for due in state.due:
            item = f"step:{run.step_id(due)}"
            page = _page(chain, due, now)
            for name in self._outbox.unsent(self._pagers, item):
                if silence is not None:
                    self._record(run, due, page, name, "silenced", error=silence.id)
                    self._outbox.mark_done(name, item)
                elif name in down or not self._send(run, due, page, name, notification):
                    down.add(name)
                    held = True
        later = state.next_at.timestamp() if state.next_at else None
        if held:
            retry = self._clock() + backoff(self._routing.delivery, run.failures + 1)
            self._runs.wake_at(run, min(retry, later or retry), failed=True)
        elif later is not None:
            self._runs.wake_at(run, later)
        else:
            self._runs.forget(run.id)

    def _send(
        self, run: Run, due: DueStep, page: Page, name: str, notification: Notification
    ) -> bool:
        """Deliver one step to one receiver; whether it is done with (sent, or given up)."""
        config = self._routing.receiver(name)
        assert config is not None  # pagers are the routing file's receivers
        message = compose(
            [notification], language=config.language, ticket_url=self._ticket_url, page=page
        )
        error = deliver(
            self._receivers[name],
            message,
            policy=self._routing.delivery,
            sleep=self._sleep,
            record=lambda attempt, failure, seconds: self._attempted(
                run, due, page, name, attempt, failure, seconds
            ),
        )
        if error is not None and error.retryable:
            return False
        self._outbox.mark_done(name, f"step:{run.step_id(due)}")
        return True

    def _attempted(
        self,
        run: Run,
        due: DueStep,
        page: Page,
        name: str,
        attempt: int,
        error: DeliveryError | None,
        seconds: float,
    ) -> None:
        self._metrics.attempted(name, "escalation", seconds)
        result: Result = "sent" if error is None else "failed"
        self._record(run, due, page, name, result, attempt, "" if error is None else str(error))

    def _record(
        self,
        run: Run,
        due: DueStep,
        page: Page,
        name: str,
        result: Result,
        attempt: int = 0,
        error: str = "",
    ) -> None:
        people = ", ".join(person.id for person in page.people) or "nobody"
        step = f"{page.chain} step {page.index + 1}/{page.steps}"
        entry = LogEntry(
            at=self._clock(),
            receiver=name,
            notification=run.step_id(due),
            ticket=run.ticket,
            change=run.change,
            result=result,
            attempt=attempt,
            error=error,
            kind="escalation",
            step=f"{step} round {page.round + 1}/{page.rounds}: {people}",
        )
        self.log.write([entry])


def _page(chain: Chain, due: DueStep, now: float) -> Page:
    """What a due step says: which step of which chain, and who it reaches at ``now``."""
    target = due.step.target
    kind = "person"
    if isinstance(target, Schedule | Team):
        kind = "schedule" if isinstance(target, Schedule) else "team"
    return Page(
        chain=chain.id,
        index=due.index,
        steps=len(chain.steps),
        round=due.round,
        rounds=chain.repeat + 1,
        target_kind=kind,
        target=target.id,
        people=recipients(target, _moment(now)),
    )


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
