"""``riskmon demo``: import the shipped real-data sample, replay it, show the tickets."""

from __future__ import annotations

import heapq
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .._runtime import open_runtime
from .._settings import load_settings
from ..importing import load_mapping, preset_path, run_import
from ._output import console, print_summary, ticket_table

DEMO_DATA = Path(__file__).resolve().parents[1] / "demo"
SEVERITY_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


@click.command("demo")
def demo_command() -> None:
    """Import a small real sample (224 Olist orders, 640 stock records), replay it through
    the shipped rules and show the tickets. Source and licence: monitor/demo/SOURCES.md."""
    from streams import replay  # the runner: imported when this command runs

    settings = load_settings()
    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    imports = [
        ("olist", DEMO_DATA / "olist", folder / "olist-events.jsonl"),
        (
            "civ_stock",
            DEMO_DATA / "civ_stock" / "contraceptive_logistics_data.csv",
            folder / "stock-events.jsonl",
        ),
    ]
    for preset, source, out in imports:
        report = run_import(load_mapping(preset_path(preset)), source, out)
        console.print(
            f"imported {preset}: {report.rows_read:,} rows → {report.events_written:,} events "
            f"({report.rows_rejected:,} rows rejected) → {out}"
        )
    merged = folder / "events.jsonl"
    _merge_by_time([out for _, _, out in imports], merged)
    runtime = open_runtime(settings)
    stats = replay(
        runtime.pipeline(),
        [str(merged)],
        batch_size=settings.batch_size,
        progress=sys.stderr.isatty(),
    )
    print_summary(stats)
    waiting = [t for t in runtime.tickets.all() if t.status != "resolved"]
    waiting.sort(key=lambda t: (SEVERITY_ORDER[t.severity], -t.last_seen))
    console.print(ticket_table(waiting[:12]))
    console.print(
        f"{len(waiting):,} tickets are waiting. Next: [bold]riskmon tickets list --severity P1[/], "
        "[bold]riskmon tickets show ID[/]; data in "
        f"{settings.data_dir} (RISKMON_DATA_DIR)."
    )


def _merge_by_time(paths: list[Path], out: Path) -> None:
    """Merge JSONL files that are each sorted by event time into one sorted file."""
    with out.open("wb") as sink:
        for _, line in heapq.merge(*(_timed_lines(path) for path in paths)):
            sink.write(line)


def _timed_lines(path: Path) -> Iterator[tuple[float, bytes]]:
    from .._events import parse_event

    with path.open("rb") as lines:
        for line in lines:
            yield parse_event(line).timestamp, line
