"""``riskmon import``: CSV exports → CloudEvents JSONL.

This module only parses options and prints; the work is ``monitor.importing``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import rich.progress
from rich.console import Console

from ..importing import ImportReport, Progress, load_mapping, preset_path, run_import

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _settings(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    settings = {}
    for item in values:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", ctx, param)
        settings[name.strip()] = value
    return settings


def _outputs(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every import command shares."""
    options = [
        click.option("-o", "--output", type=_OUT, required=True, help="Events JSONL to write."),
        click.option(
            "--rejects",
            type=_OUT,
            help="Rejected rows JSONL [default: OUT.rejects.jsonl beside the output].",
        ),
        click.option(
            "--set",
            "settings",
            metavar="NAME=VALUE",
            multiple=True,
            callback=_settings,
            help="Override a mapping parameter (repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(name="import")
def import_group() -> None:
    """Import CSV exports as CloudEvents JSONL, sorted by event time."""


@import_group.command(name="csv")
@click.argument("file", metavar="FILE|DIR", type=click.Path(exists=True, path_type=Path))
@click.option("-m", "--mapping", type=_FILE, required=True, help="Mapping YAML file.")
@_outputs
def import_csv(
    file: Path, mapping: Path, output: Path, rejects: Path | None, settings: dict[str, str]
) -> None:
    """Import FILE through the mapping file (joined files are read beside FILE); given a
    folder, the mapping's ``rows:`` names the main file in it."""
    _import(mapping, file, output, rejects, settings)


@import_group.command(name="olist")
@click.argument("folder", metavar="DIR", type=_FOLDER)
@_outputs
def import_olist(
    folder: Path, output: Path, rejects: Path | None, settings: dict[str, str]
) -> None:
    """Import the Olist e-commerce CSV files in DIR (orders, customers, items, payments)."""
    _import(preset_path("olist"), folder, output, rejects, settings)


@import_group.command(name="civ-stock")
@click.argument("file", type=_FILE)
@click.option(
    "--safety-months",
    type=click.FloatRange(min=0),
    help="Safety threshold in months of average consumption [default: 2].",
)
@_outputs
def import_civ_stock(
    file: Path,
    safety_months: float | None,
    output: Path,
    rejects: Path | None,
    settings: dict[str, str],
) -> None:
    """Import Côte d'Ivoire monthly stock records (contraceptive_logistics_data.csv)."""
    params: dict[str, str | float] = dict(settings)
    if safety_months is not None:
        params["safety_months"] = safety_months
    _import(preset_path("civ_stock"), file, output, rejects, params)


def _import(
    mapping_path: Path,
    inputs: Path,
    output: Path,
    rejects: Path | None,
    params: Mapping[str, str | float],
) -> None:
    # an ImportMappingError is reported by the root group, like every error of ours
    mapping = load_mapping(mapping_path, params)
    with _progress_bar() as progress:
        report = run_import(mapping, inputs, output, rejects, progress=progress)
    _print(report)
    if report.events_written == 0:
        raise click.exceptions.Exit(1)


@contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    with rich.progress.Progress(
        rich.progress.TextColumn("importing rows"),
        rich.progress.BarColumn(),
        rich.progress.MofNCompleteColumn(),
        rich.progress.TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("import", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print(report: ImportReport) -> None:
    rows: list[tuple[str, int, str]] = [
        ("rows read", report.rows_read, ""),
        ("events written", report.events_written, f"  → {report.out_path}"),
        *((f"  {kind}", count, "") for kind, count in report.events.items()),
        ("rows rejected", report.rows_rejected, f"  → {report.rejects_path}"),
        *((f"  {reason}", count, "") for reason, count in report.rejects.items()),
    ]
    width = max(len(label) for label, _, _ in rows)
    click.echo("\n".join(f"{label:<{width}}  {count:>7}{note}" for label, count, note in rows))
