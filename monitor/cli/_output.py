"""Printing for the CLI: one console, JSON Lines, ticket tables and the run summary."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable

import orjson
from rich.console import Console
from rich.table import Table

from .._pipeline import RunStats
from .._tickets import Ticket, iso

console = Console(soft_wrap=True)
if not console.is_terminal:
    console.width = 160  # logs and pipes: keep rule names and ids whole
errors = Console(stderr=True)
SEVERITY_STYLE = {"P0": "bold white on red", "P1": "bold red", "P2": "yellow", "P3": "cyan"}


def print_json_lines(items: Iterable[dict[str, object]]) -> None:
    """One compact JSON object per line on stdout."""
    out = sys.stdout.buffer
    for item in items:
        out.write(orjson.dumps(item) + b"\n")
    out.flush()


def ticket_table(tickets: Iterable[Ticket]) -> Table:
    """Tickets as a table, one row each; the title wraps, the rest stays on one line. A
    ticket held back by its parent says ``suppressed`` after its status."""
    table = Table(header_style="bold")
    for column in ("id", "sev", "status", "rule", "occ", "last seen"):
        table.add_column(column, no_wrap=True)
    table.add_column("title", overflow="fold", ratio=1)
    for t in tickets:
        breach = " [red]SLA![/]" if t.breached_acknowledge or t.breached_resolve else ""
        held = " [dim]suppressed[/]" if t.suppressed_by else ""
        table.add_row(
            t.id,
            f"[{SEVERITY_STYLE[t.severity]}]{t.severity}[/]",
            t.status + breach + held,
            t.rule,
            str(t.occurrences),
            _short(t.last_seen),
            t.title,
        )
    return table


def _short(timestamp: float) -> str:
    return iso(timestamp)[:16].replace("T", " ")


def print_summary(stats: RunStats) -> None:
    """The end-of-run summary: inputs, dead letters, ticket changes by rule, speed."""
    dead = sum(stats.dead_letters.values())
    console.print(
        f"[bold]{stats.read:,}[/] records read · [bold]{stats.processed:,}[/] events processed · "
        f"{stats.duplicates:,} already seen · {stats.late:,} late · "
        f"[bold]{dead:,}[/] dead-lettered · {stats.rate:,.0f} records/s"
    )
    for reason, count in stats.dead_letters.most_common():
        console.print(f"  dead letter [red]{reason}[/]: {count:,}")
    if not stats.changes:
        console.print("No ticket changed.")
        return
    table = Table(title="Ticket changes", header_style="bold")
    kinds = [
        "opened",
        "updated",
        "reopened",
        "resolved",
        "escalated",
        "sla-warning",
        "breached",
        "suppressed",
        "unsuppressed",
    ]
    table.add_column("rule")
    table.add_column("severity")
    for kind in kinds:
        table.add_column(kind, justify="right")
    by_rule: dict[tuple[str, str], Counter[str]] = {}
    for (rule, severity, change), count in stats.changes.items():
        by_rule.setdefault((rule, severity), Counter())[change] += count
    for (rule, severity), counts in sorted(by_rule.items()):
        row = [str(counts[kind] or "") for kind in kinds]
        table.add_row(rule, f"[{SEVERITY_STYLE[severity]}]{severity}[/]", *row)
    console.print(table)
