"""``riskmon worker`` and ``riskmon produce``: the distributed runner on Kafka."""

from __future__ import annotations

import asyncio
import sys
from contextlib import ExitStack

import click
from prometheus_client import CollectorRegistry

from rules import RuleBook

from .._events import EVENT_TYPES
from .._runtime import open_runtime
from .._settings import load_settings
from ._commands import alert_observers, serve_metrics
from ._output import console


@click.command("worker")
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port).",
)  # fmt: skip
@click.option(
    "--metrics-host", default="0.0.0.0", show_default=True,
    help="Metrics address (all interfaces, for a scraper in another container).",
)  # fmt: skip
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="warning",
    show_default=True, help="faust's log level.",
)  # fmt: skip
def worker_command(metrics_port: int | None, metrics_host: str, log_level: str) -> None:
    """Process the order, stock and logistics topics until stopped (SIGINT or SIGTERM).

    Start several: they share the topics' partitions, and the partitions of a worker that
    stops move to the others."""
    import faust  # the runner: imported when this command runs

    from streams import WorkerOptions, create_app, worker_topics

    settings = load_settings()
    runtime = open_runtime(settings)
    book = RuleBook.load(settings.rules_dir, event_types=EVENT_TYPES)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    partitions = loop.run_until_complete(worker_topics(settings))
    with ExitStack() as stack:
        registry = CollectorRegistry()  # served with --metrics-port, the notifier's too
        options = WorkerOptions(partitions, alert_observers(runtime, registry))
        if metrics_port is not None:
            metrics = serve_metrics(
                stack, runtime.tickets, metrics_host, metrics_port, registry=registry
            )
            options = WorkerOptions(partitions, [metrics, *options.observers], metrics.count_reload)
        app = create_app(runtime, book, options)
        worker = faust.Worker(app, loop=loop, loglevel=log_level, redirect_stdouts=False)
        worker.spinner = None  # its handler sets the root logger to DEBUG: every library's
        # debug message would be formatted, a tenth of the worker's time
        worker.execute_from_commandline()


@click.command("produce")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option(
    "--topic-map", "mappings", multiple=True, metavar="FAMILY=TOPIC",
    help="Topic of an event family, e.g. order=orders or 'shipment.*=logistics' (repeatable; "
    "default: the topics setting).",
)  # fmt: skip
@click.option(
    "--fallback-topic", help="Topic for invalid lines and unmapped families (default: the "
    "order family's topic), where the worker dead-letters what is invalid.",
)  # fmt: skip
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
def produce_command(
    files: tuple[str, ...], mappings: tuple[str, ...], fallback_topic: str | None,
    progress: bool | None,
) -> None:  # fmt: skip
    """Publish event files (JSON Lines; - for stdin) to the topics, keyed by entity: orders
    by order id, stock by site and SKU, shipments by shipment id."""
    from streams import produce

    settings = load_settings()
    topics = dict(settings.topics)
    topics.update(_parse_mapping(text) for text in mappings)
    fallback = fallback_topic or topics.get("order") or sorted(topics.values())[0]
    unread = sorted({*topics.values(), fallback} - set(settings.topics.values()))
    if unread:
        raise click.UsageError(
            f"the workers do not read {', '.join(unread)} (RISKMON_TOPICS): what goes there "
            "would never be processed; give producer and workers the same topics setting"
        )
    show = sys.stderr.isatty() if progress is None else progress
    published = asyncio.run(produce(settings, files, topics, fallback=fallback, progress=show))
    for topic, count in sorted(published.per_topic.items()):
        console.print(f"{topic}: {count:,} messages")
    if published.invalid:
        console.print(f"{published.invalid:,} lines are not valid events (sent to {fallback})")


def _parse_mapping(text: str) -> tuple[str, str]:
    name, sep, topic = text.partition("=")
    family = name.strip().removesuffix(".*")
    if not sep or not family or not topic.strip() or "." in family:
        raise click.BadParameter(f"{text!r}: expected FAMILY=TOPIC, e.g. order=orders")
    return family, topic.strip()
