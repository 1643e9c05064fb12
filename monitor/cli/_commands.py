"""``riskmon run``, ``riskmon tickets`` and ``riskmon rules``."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click
from prometheus_client import CollectorRegistry

from rules import SEVERITIES, load_rules

from .._events import EVENT_TYPES
from .._metrics import PipelineMetrics, TicketMetrics
from .._metrics_http import serving_metrics, wait_for_stop_signal
from .._pipeline import PipelineObserver
from .._rule_examples import run_examples
from .._runtime import Runtime, open_runtime
from .._settings import load_settings
from .._ticket_store import TicketStore
from .._tickets import STATUSES, Ticket
from ._output import console, print_json_lines, print_summary, ticket_table

FORMAT = click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table",
    help="json: JSON Lines, one object per item.",
)  # fmt: skip


@click.command("run")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Events per batch.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics at http://HOST:PORT/metrics during the run (0: any free port).",
)  # fmt: skip
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Metrics address.")
@click.option(
    "--serve-after", is_flag=True,
    help="Keep serving metrics after the run, until interrupted (SIGINT or SIGTERM).",
)  # fmt: skip
def run_command(
    files: tuple[str, ...],
    batch_size: int | None,
    progress: bool | None,
    metrics_port: int | None,
    metrics_host: str,
    serve_after: bool,
) -> None:
    """Replay event files (JSON Lines; - for stdin) through the rules into tickets.

    Several files are merged by event time."""
    from streams import replay  # the runner: imported when this command runs

    if serve_after and metrics_port is None:
        raise click.UsageError("--serve-after needs --metrics-port")
    settings = load_settings()
    runtime = open_runtime(settings)
    with ExitStack() as stack:
        observers: list[PipelineObserver] = []
        registry = CollectorRegistry()  # the pipeline's and the alerts' metrics
        if metrics_port is not None:
            observers.append(
                serve_metrics(stack, runtime.tickets, metrics_host, metrics_port, registry=registry)
            )
        observers.extend(alert_observers(runtime, registry))
        pipeline = runtime.pipeline(observers=observers)
        show = sys.stderr.isatty() if progress is None else progress
        batches = batch_size or settings.batch_size
        stats = replay(pipeline, files, batch_size=batches, progress=show)
        print_summary(stats)
        if stats.dead_letters:
            console.print(f"Dead letters: {runtime.dead_letters.path}")
        if serve_after:
            console.print("Run done; serving metrics until interrupted")
            wait_for_stop_signal()


def alert_observers(
    runtime: Runtime, registry: CollectorRegistry | None = None
) -> list[PipelineObserver]:
    """The alert notifier, when a routing file is configured (``RISKMON_ROUTES_FILE``); it
    declares its metrics on ``registry`` when one is given (the one ``serve_metrics`` serves)."""
    from alerts import notifier_for  # alerts imports monitor, never the reverse

    notifier = notifier_for(runtime, registry=registry)
    return [] if notifier is None else [notifier]


def serve_metrics(
    stack: ExitStack,
    tickets: TicketStore,
    host: str,
    port: int,
    *,
    registry: CollectorRegistry | None = None,
) -> PipelineMetrics:
    """Declare the metrics on ``registry`` (default: one of their own) and serve it until
    ``stack`` closes; other metrics declared on it later are served too."""
    registry = registry or CollectorRegistry()
    metrics = PipelineMetrics(registry)
    registry.register(TicketMetrics(tickets))
    console.print(f"Metrics at {stack.enter_context(serving_metrics(registry, host, port))}")
    return metrics


@click.group("tickets")
def tickets_group() -> None:
    """List, show and work tickets (ack, assign, comment, resolve)."""


@tickets_group.command("list")
@click.option(
    "--severity",
    multiple=True,
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="Repeatable.",
)
@click.option("--rule", multiple=True, help="Rule id (repeatable).")
@click.option(
    "--status", multiple=True, type=click.Choice([*STATUSES, "unresolved"]),
    help="Repeatable; unresolved = open, acknowledged or reopened.",
)  # fmt: skip
@click.option("--team", multiple=True, help="Owning team (repeatable).")
@click.option(
    "--suppressed/--no-suppressed", default=None,
    help="Only tickets suppressed by their parent ticket, or only those that are not.",
)  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@FORMAT
def list_tickets(
    severity: tuple[str, ...],
    rule: tuple[str, ...],
    status: tuple[str, ...],
    team: tuple[str, ...],
    suppressed: bool | None,
    limit: int | None,
    output: str,
) -> None:
    """List tickets, newest first, filtered."""
    store = open_runtime(load_settings()).tickets
    if "unresolved" in status:
        status = (*status, *(name for name in STATUSES if name != "resolved"))
    filters = {"severity": severity, "rule": rule, "status": status, "team": team}
    chosen = [
        t
        for t in store.all()
        if _keeps(t, filters) and suppressed in (None, t.suppressed_by is not None)
    ]
    chosen.reverse()
    chosen = chosen[:limit] if limit else chosen
    if output == "json":
        print_json_lines(_listing(t) for t in chosen)
    else:
        console.print(ticket_table(chosen))
        console.print(f"{len(chosen)} ticket(s)")


def _keeps(ticket: Ticket, filters: dict[str, tuple[str, ...]]) -> bool:
    return all(not wanted or getattr(ticket, name) in wanted for name, wanted in filters.items())


def _listing(ticket: Ticket) -> dict[str, object]:
    document = ticket.to_json()
    del document["history"]
    return document


@tickets_group.command("show")
@click.argument("ticket_id")
@FORMAT
def show_ticket(ticket_id: str, output: str) -> None:
    """Show one ticket with its history, its parent and its children."""
    store = open_runtime(load_settings()).tickets
    ticket = store.get(store.find(ticket_id))
    if ticket is None:
        raise click.ClickException(f"no ticket {ticket_id}")
    children = store.children(ticket.id)
    document = {**ticket.to_json(), "children": [child.id for child in children]}
    if output == "json":
        print_json_lines([document])
        return
    parent = store.get(ticket.parent) if ticket.parent else None
    for name, value in document.items():
        if name in ("breached", "warned"):
            value = ", ".join(kind for kind, late in value.items() if late) or "no"
        if name == "parent" and value and parent is None:
            value = f"{value} (not opened: its rule has not fired for this key)"
        if name not in ("history", "children"):
            console.print(f"[bold]{name:>17}[/]  {'—' if value is None else value}")
    _print_relatives(parent, children)
    console.print("[bold]history[/]")
    for change in document["history"]:
        console.print(
            f"  {change['at']}  {change['by']:<8} {change['action']:<13} {change['detail']}"
        )


def _print_relatives(parent: Ticket | None, children: list[Ticket]) -> None:
    """The parent ticket and the children, one line each."""
    if parent is not None:
        console.print("[bold]parent[/]")
        console.print(ticket_table([parent]))
    if children:
        console.print(f"[bold]children[/] ({len(children)})")
        console.print(ticket_table(children))


@click.group("rules")
def rules_group() -> None:
    """Check and test rule files."""


@rules_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def check_rules(path: Path | None) -> None:
    """Validate rule files (default: the rules in force); errors name file:line."""
    rule_set = load_rules(path or load_settings().rules_dir, event_types=EVENT_TYPES)
    files = ", ".join(rule_set.files)
    console.print(
        f"[green]OK[/] {len(rule_set.rules)} rules in {files} (version {rule_set.version})"
    )


@rules_group.command("test")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def test_rules(path: Path | None) -> None:
    """Run every rule's examples through the engine; exit 1 if any fails."""
    settings = load_settings()
    rule_set = load_rules(path or settings.rules_dir, event_types=EVENT_TYPES)
    failed = 0
    for result in run_examples(rule_set, settings.policy):
        mark = "[green]pass[/]" if result.passed else "[red]FAIL[/]"
        console.print(f"{mark} {result.rule.id}: {result.example.name}")
        for problem in result.problems:
            console.print(f"     {result.rule.file}:{result.example.line}: {problem}")
        failed += not result.passed
    if failed:
        raise SystemExit(1)
