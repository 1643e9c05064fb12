"""Patrol reports sent to the receivers the routing file's ``reports`` section names.

The same stages as ticket changes, minus grouping and silences: each report goes once per
receiver (marked done in the ``Outbox``, a lock per receiver and report so two processes do
not both send it), retried with backoff, every attempt in the notification log (kind
``report``) and the metrics. A receiver not reached keeps the report unsent: the next send of
that report (``riskmon report daily --send``, the schedule's retry) tries it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress

from redis.exceptions import LockError

from monitor import Runtime
from monitor.report import Format, Period, Report

from ._errors import DeliveryError
from ._log import LogEntry
from ._messages import compose_report
from ._retry import deliver, longest
from ._routing import load_routing
from ._sender import Sender


class ReportNotifier(Sender):
    """Sends patrol reports as the routing file's ``reports`` section says (the arguments:
    see ``Sender``)."""

    def unsent(self, period: Period) -> list[str]:
        """The receivers of ``period``'s report that have not had it."""
        names = self._routing.report_receivers(period.kind, period.zone)
        return self._outbox.unsent(names, f"report:{period.id}")

    def send(self, report: Report, rendered: Mapping[Format, str]) -> list[str]:
        """Send ``report`` (``rendered``: its Markdown and HTML at least) to each of its
        receivers that has not had it; returns those it reached. ``DeliveryError`` names the
        receivers still not reached after their retries."""
        names = self._routing.report_receivers(report.kind, report.zone)
        sent: list[str] = []
        failed: list[str] = []
        for name in self._outbox.unsent(names, f"report:{report.id}"):
            lock = self._outbox.lock(
                f"report:{name}:{report.id}", seconds=longest(self._routing.delivery)
            )
            if not lock.acquire(blocking=False):
                continue  # another process is sending it
            try:
                error = self._send(name, report, rendered)
            finally:
                with suppress(LockError):  # it expired meanwhile: nothing left to release
                    lock.release()
            if error is None:
                sent.append(name)
            else:
                failed.append(f"{name} ({error})")
        if failed:
            reached = f"sent to {', '.join(sent)}; " if sent else ""
            raise DeliveryError(
                f"report {report.id}: {reached}not delivered to {'; '.join(failed)}",
                retryable=True,
            )
        return sent

    def _send(
        self, name: str, report: Report, rendered: Mapping[Format, str]
    ) -> DeliveryError | None:
        if not self._outbox.unsent([name], f"report:{report.id}"):
            return None  # sent meanwhile, by whoever held the lock before
        config = self._routing.receiver(name)
        assert config is not None  # the routing file's check
        error = deliver(
            self._receivers[name],
            compose_report(report, rendered, language=config.language),
            policy=self._routing.delivery,
            sleep=self._sleep,
            record=lambda attempt, error, seconds: self._record(
                name, report, attempt, error, seconds
            ),
        )
        if error is None:
            self._outbox.mark_done(name, f"report:{report.id}")
        return error

    def _record(
        self, name: str, report: Report, attempt: int, error: DeliveryError | None, seconds: float
    ) -> None:
        self._metrics.attempted(name, "report", seconds)
        entry = LogEntry(
            at=self._clock(),
            receiver=name,
            notification=report.id,
            ticket="",
            change=report.kind,
            result="sent" if error is None else "failed",
            attempt=attempt,
            error="" if error is None else str(error),
            kind="report",
        )
        self.log.write([entry])


def report_notifier_for(runtime: Runtime) -> ReportNotifier | None:
    """The report notifier the settings ask for (``routes_file``), or ``None`` when there is
    none."""
    path = runtime.settings.routes_file
    if path is None:
        return None
    return ReportNotifier(load_routing(path), runtime.client, runtime.settings.redis_prefix)
