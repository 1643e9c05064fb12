"""``riskmon demo``: import the shipped real-data sample, replay it, show the tickets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._runtime import open_runtime
from .._settings import load_settings
from ..importing import load_mapping, preset_path, run_import
from ._output import console, print_summary, ticket_table

DEMO_DATA = Path(__file__).resolve().parents[1] / "demo"
SEVERITY_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
SHOWN = 12


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
    runtime = open_runtime(settings)
    outputs = [str(out) for _, _, out in imports]
    stats = replay(
        runtime.pipeline(), outputs, batch_size=settings.batch_size, progress=sys.stderr.isatty()
    )
    print_summary(stats)
    waiting = [t for t in runtime.tickets.all() if t.status != "resolved"]
    waiting.sort(key=lambda t: (SEVERITY_ORDER[t.severity], -t.last_seen))
    console.print(ticket_table(waiting[:SHOWN]))
    console.print(
        f"The {min(SHOWN, len(waiting))} most severe of {len(waiting):,} unresolved tickets. "
        "Next (in the virtualenv: . .venv/bin/activate): "
        "[bold]riskmon tickets list --status unresolved --severity P1[/], "
        f"[bold]riskmon tickets show ID[/]. Data: {settings.data_dir} (RISKMON_DATA_DIR)."
    )
