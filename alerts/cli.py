"""``riskmon alerts``: the notification log, silences, the routing file, pending deliveries."""

from __future__ import annotations

import getpass
import time
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table

from monitor import iso, load_settings, open_runtime
from monitor.cli._output import console, print_json_lines
from rules import RuleError, parse_duration

from ._errors import AlertsError
from ._log import NotificationLog
from ._notifier import notifier_for
from ._routing import load_routing
from ._silences import SilenceStore, parse_matchers

FORMAT = click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table",
    help="json: JSON Lines, one object per item.",
)  # fmt: skip


@click.group("alerts")
def alerts_group() -> None:
    """Alert notifications: log, silences, routing file, pending deliveries."""


@alerts_group.command("log")
@click.option("--ticket", help="Only this ticket (id or prefix).")
@click.option(
    "--kind",
    type=click.Choice(["ticket", "report", "escalation"]),
    help="Only ticket changes, reports or escalation steps.",
)
@click.option("--receiver", help="Only this receiver.")
@click.option("--result", type=click.Choice(["sent", "failed", "silenced"]), help="Only these.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@FORMAT
def show_log(
    ticket: str | None,
    kind: str | None,
    receiver: str | None,
    result: str | None,
    limit: int | None,
    output: str,
) -> None:
    """List the notification log, newest first: every attempt, with its result and error
    (a patrol report shows as its id, its change as its kind; an escalation step adds which
    step of which chain and who it reached)."""
    runtime = open_runtime(load_settings())
    entries = [
        entry
        for entry in NotificationLog(runtime.client, runtime.settings.redis_prefix).read()
        if (ticket is None or entry.ticket.startswith(ticket))
        and (kind is None or entry.kind == kind)
        and (receiver is None or entry.receiver == receiver)
        and (result is None or entry.result == result)
    ][:limit]
    if output == "json":
        print_json_lines(entry.to_json() for entry in entries)
        return
    table = Table(header_style="bold")
    for column in ("time", "receiver", "ticket/report", "change", "result", "try"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", overflow="fold", ratio=1)
    style = {"sent": "green", "failed": "red", "silenced": "yellow"}
    for entry in entries:
        table.add_row(
            iso(entry.at)[:19].replace("T", " "),
            entry.receiver,
            entry.ticket or entry.notification,
            f"{entry.change} {entry.step}".strip(),
            f"[{style[entry.result]}]{entry.result}[/]",
            str(entry.attempt or ""),
            entry.error,
        )
    console.print(table)
    console.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")


@alerts_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def check_routing(path: Path | None) -> None:
    """Validate the routing file (default: RISKMON_ROUTES_FILE); errors name file:line."""
    chosen = path or load_settings().routes_file
    if chosen is None:
        raise AlertsError("no routing file: give one, or set RISKMON_ROUTES_FILE")
    routing = load_routing(chosen)
    chains = f", {len(routing.oncall.chains)} escalation chains" if routing.oncall else ""
    console.print(
        f"[green]OK[/] {len(routing.receivers)} receivers, {len(routing.routes)} routes"
        f"{chains} in {chosen}"
    )


@alerts_group.command("flush")
def flush_pending() -> None:
    """Deliver the notifications that are due now (retries after a receiver was down,
    reminders), as a running pipeline does after every batch."""
    notifier = notifier_for(open_runtime(load_settings()))
    if notifier is None:
        raise AlertsError("no routing file: set RISKMON_ROUTES_FILE")
    notifier.flush()
    console.print("Delivered what was due; see riskmon alerts log")


@alerts_group.group("silence")
def silence_group() -> None:
    """Silences (maintenance windows): matching ticket changes are logged, not sent."""


def _silences() -> SilenceStore:
    runtime = open_runtime(load_settings())
    return SilenceStore(runtime.client, runtime.settings.redis_prefix)


@silence_group.command("add")
@click.option(
    "--match", "match", multiple=True, required=True,
    help="NAME=GLOB, NAME one of severity, team, rule, source, ticket, change (repeatable).",
)  # fmt: skip
@click.option("--for", "duration", required=True, help="How long, e.g. 2h or 1h30m.")
@click.option("--starts", "starts_at", help="ISO 8601 time with an offset (default: now).")
@click.option(
    "--author", default=lambda: getpass.getuser(), show_default="your login name",
    help="Who silences.",
)  # fmt: skip
@click.option("--comment", required=True, help="Why (a maintenance window, a known cause).")
def add_silence(
    match: tuple[str, ...], duration: str, starts_at: str | None, author: str, comment: str
) -> None:
    """Silence matching ticket changes for a while."""
    try:
        seconds = parse_duration(duration)
    except RuleError as error:
        raise AlertsError(f"--for: {error}") from None
    starts = _time(starts_at) if starts_at else time.time()
    silence = _silences().add(
        parse_matchers(match), starts=starts, ends=starts + seconds, author=author, comment=comment
    )
    console.print(f"{silence.id} silences {_matchers(silence.matchers)} until {iso(silence.ends)}")


@silence_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Expired silences too.")
@FORMAT
def list_silences(everything: bool, output: str) -> None:
    """List pending and active silences (--all: expired too)."""
    now = time.time()
    chosen = [s for s in _silences().all() if everything or s.state(now) != "expired"]
    if output == "json":
        print_json_lines({**s.to_json(), "state": s.state(now)} for s in chosen)
        return
    table = Table(header_style="bold")
    for column in ("id", "state", "matchers", "starts", "ends", "author"):
        table.add_column(column, no_wrap=True)
    table.add_column("comment", overflow="fold", ratio=1)
    for s in chosen:
        table.add_row(
            s.id, s.state(now), _matchers(s.matchers), iso(s.starts), iso(s.ends), s.author,
            s.comment,
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(chosen)} silence(s)")


@silence_group.command("expire")
@click.argument("silence_id")
def expire_silence(silence_id: str) -> None:
    """End a silence now (its id or a unique prefix)."""
    silence = _silences().expire(silence_id, time.time())
    console.print(f"{silence.id} expired at {iso(silence.ends)}")


def _matchers(matchers: dict[str, list[str]]) -> str:
    return " ".join(f"{name}={'|'.join(globs)}" for name, globs in matchers.items())


def _time(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AlertsError(f"--starts: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise AlertsError(f"--starts: {text!r} needs an offset, e.g. +08:00 or Z")
    return moment.timestamp()


__all__ = ["alerts_group"]
