"""``riskmon report``: daily and weekly patrol reports, generated, stored, listed, shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import click

from rules import load_rules

from .._events import EVENT_TYPES
from .._runtime import open_runtime
from .._settings import load_settings
from ..report import (
    FORMATS,
    Aggregates,
    Format,
    Period,
    ReportStore,
    build_report,
    daily,
    weekly,
)
from ._output import console, print_json_lines


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
def daily_report(day: datetime, zone: str, form: str, output: Path | None) -> None:
    """The report of one calendar day (YYYY-MM-DD) in a time zone."""
    _generate(daily(day.date(), zone), cast(Format, form), output)


@report_group.command("weekly")
@click.option("--week", required=True, help="ISO week, YYYY-Www (e.g. 2017-W47).")
@_generating
def weekly_report(week: str, zone: str, form: str, output: Path | None) -> None:
    """The roll-up of one ISO week (Monday to Sunday) in a time zone, day by day."""
    _generate(weekly(week, zone), cast(Format, form), output)


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


def _generate(period: Period, form: Format, output: Path | None) -> None:
    settings = load_settings()
    runtime = open_runtime(settings)
    rules = load_rules(settings.rules_dir, event_types=EVENT_TYPES)
    report = build_report(
        period,
        aggregates=Aggregates(runtime.client, settings.redis_prefix),
        tickets=runtime.tickets,
        rules=[rule.id for rule in rules.rules],
    )
    text = ReportStore(runtime.client, settings.redis_prefix).save(report)[form]
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    click.echo(f"stored as {report.id} (riskmon report show {report.id})", err=True)
