"""``riskmon report``: daily and weekly patrol reports, generated, stored, sent, listed, shown."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, cast

import click
import orjson

from rules import load_rules

from .._errors import RiskMonitorError
from .._events import EVENT_TYPES
from .._runtime import Runtime, open_runtime
from .._settings import Settings, load_settings
from ..report import (
    FORMATS,
    Aggregates,
    Format,
    Period,
    Report,
    ReportStore,
    ScheduledRun,
    SystemClock,
    build_report,
    daily,
    done_by,
    next_run,
    run_schedule,
    weekly,
)
from ._output import console, print_json_lines


class ReportSender(Protocol):
    """Where generated reports go: the receivers the routing file names for reports
    (``alerts`` implements it, loaded only when a routing file is set)."""

    def unsent(self, period: Period) -> list[str]:
        """The receivers of ``period``'s report that have not had it."""
        ...

    def send(self, report: Report, rendered: Mapping[Format, str]) -> list[str]:
        """Send ``report`` to each of its receivers that has not had it; those reached."""
        ...


def _generating(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options both generating commands share."""
    options = [
        click.option("--tz", "zone", required=True, help="IANA time zone, e.g. Asia/Kolkata."),
        click.option(
            "--format", "form", type=click.Choice(FORMATS), default="md", show_default=True
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            help="Write to this file [default: stdout].",
        ),
        click.option(
            "--send",
            is_flag=True,
            help="Send it to the routing file's report receivers (each gets a report once).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("report")
def report_group() -> None:
    """Patrol reports: generate (stored in Redis), list and show."""


@report_group.command("daily")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]))
@_generating
def daily_report(day: datetime, zone: str, form: str, output: Path | None, send: bool) -> None:
    """The report of one calendar day (YYYY-MM-DD) in a time zone."""
    _generate(daily(day.date(), zone), cast(Format, form), output, send=send)


@report_group.command("weekly")
@click.option("--week", required=True, help="ISO week, YYYY-Www (e.g. 2017-W47).")
@_generating
def weekly_report(week: str, zone: str, form: str, output: Path | None, send: bool) -> None:
    """The roll-up of one ISO week (Monday to Sunday) in a time zone, day by day."""
    _generate(weekly(week, zone), cast(Format, form), output, send=send)


@report_group.command("list")
@click.option("--format", "form", type=click.Choice(["table", "json"]), default="table")
def list_reports(form: str) -> None:
    """Stored reports, newest first."""
    settings = load_settings()
    found = ReportStore(open_runtime(settings).client, settings.redis_prefix).summaries()
    if form == "json":
        print_json_lines(found)
        return
    for item in found:
        state = "" if item["complete"] else "  (incomplete)"
        console.print(
            f"{item['id']:<36} {item['kind']:<6}  generated {item['generated_at']}  "
            f"events up to {item['data_through'] or '—'}{state}"
        )
    console.print(f"{len(found)} report(s)")


@report_group.command("show")
@click.argument("report_id")
@click.option("--format", "form", type=click.Choice(FORMATS), default="md", show_default=True)
def show_report(report_id: str, form: str) -> None:
    """Print a stored report (ids as in `riskmon report list`, e.g. 2017-11-24@UTC)."""
    settings = load_settings()
    store = ReportStore(open_runtime(settings).client, settings.redis_prefix)
    text = store.get(report_id, cast(Format, form))
    if text is None:
        raise click.ClickException(f"no report {report_id} (see riskmon report list)")
    click.echo(text, nl=False)


@report_group.command("schedule")
@click.option("--once", is_flag=True, help="Generate what is due or missed now, then exit.")
def schedule_command(once: bool) -> None:
    """Generate the daily reports of the report_schedule setting, each at its local time,
    and send them to the routing file's report receivers (when RISKMON_ROUTES_FILE is set).

    Runs until SIGINT or SIGTERM; a report missed while it was not running (yesterday's, not
    stored since its due time, or not sent to all its receivers) is generated at start. One
    line per stored report."""
    settings = load_settings()
    schedule = settings.schedule
    if not schedule:
        raise click.ClickException("no report_schedule set (see README, Configuration)")
    runtime = open_runtime(settings)
    rules = [rule.id for rule in load_rules(settings.rules_dir, event_types=EVENT_TYPES).rules]
    store = ReportStore(runtime.client, settings.redis_prefix)
    sender = _report_sender(runtime)
    clock = SystemClock()

    def done(run: ScheduledRun) -> bool:
        stored = store.get(run.report_id, "json")
        generated = done_by(orjson.loads(stored)["generated_at"] if stored else None, run)
        return generated and (sender is None or not sender.unsent(run.period))

    def generate(run: ScheduledRun) -> None:
        report, rendered = _store(run.period, settings, runtime, rules)
        late = " (made up: missed)" if (clock.now() - run.due).total_seconds() > 60 else ""
        due = run.due.astimezone(run.entry.tz).isoformat(timespec="minutes")
        click.echo(f"stored {report.id}, due {due}{late}")
        if sender is not None:
            _send(sender, report, rendered)
        if not once:
            announce_next()

    def failed(run: ScheduledRun, error: RiskMonitorError) -> None:
        click.echo(f"failed {run.report_id}: {error} (tried again later)", err=True)

    def announce_next() -> None:
        upcoming = next_run(schedule, clock.now())
        if upcoming is not None:
            due = upcoming.due.astimezone(upcoming.entry.tz).isoformat(timespec="minutes")
            click.echo(f"next: {upcoming.report_id} at {due}", err=True)

    if not once:
        zones = ", ".join(f"{entry.at:%H:%M} {entry.tz}" for entry in schedule)
        click.echo(f"scheduling daily reports at {zones}; stop with Ctrl-C", err=True)
        announce_next()
    with _stopping(clock):
        failures = run_schedule(
            schedule, clock=clock, done=done, generate=generate, failed=failed, once=once
        )
    if once:
        announce_next()
    if failures:
        raise click.ClickException(f"{failures} report(s) failed")


@contextmanager
def _stopping(clock: SystemClock) -> Iterator[None]:
    """SIGINT and SIGTERM stop the clock's waits; the previous handlers are restored after."""

    def handler(signum: int, frame: FrameType | None) -> None:
        clock.stop.set()

    numbers = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, handler) for number in numbers}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _store(
    period: Period, settings: Settings, runtime: Runtime, rules: Sequence[str]
) -> tuple[Report, Mapping[Format, str]]:
    """Build the report of ``period`` and store it; returns it and its renderings."""
    report = build_report(
        period,
        aggregates=Aggregates(runtime.client, settings.redis_prefix),
        tickets=runtime.tickets,
        rules=rules,
    )
    return report, ReportStore(runtime.client, settings.redis_prefix).save(report)


def _report_sender(runtime: Runtime) -> ReportSender | None:
    """The report sender when a routing file is set (``RISKMON_ROUTES_FILE``), else ``None``."""
    from alerts import report_notifier_for  # alerts imports monitor, never the reverse

    return report_notifier_for(runtime)


def _send(sender: ReportSender, report: Report, rendered: Mapping[Format, str]) -> None:
    """Send a stored report to its receivers that have not had it, and say so on stderr."""
    sent = sender.send(report, rendered)
    if sent:
        click.echo(f"sent {report.id} to {', '.join(sent)}", err=True)
    else:
        click.echo(
            f"{report.id} not sent: no receiver waits for it (each has it, or none takes"
            f" {report.kind} reports for {report.zone})",
            err=True,
        )


def _generate(period: Period, form: Format, output: Path | None, *, send: bool) -> None:
    settings = load_settings()
    runtime = open_runtime(settings)
    sender = _report_sender(runtime) if send else None
    if send and sender is None:
        raise click.ClickException("--send needs a routing file: set RISKMON_ROUTES_FILE")
    rules = load_rules(settings.rules_dir, event_types=EVENT_TYPES)
    report, rendered = _store(period, settings, runtime, [rule.id for rule in rules.rules])
    text = rendered[form]
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    click.echo(f"stored as {report.id} (riskmon report show {report.id})", err=True)
    if sender is not None:
        _send(sender, report, rendered)
