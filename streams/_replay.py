"""The file runner: replay JSON Lines files (or stdin) through the pipeline, in batches."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import BinaryIO

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from monitor import Pipeline, RawRecord, RunStats


def replay(
    pipeline: Pipeline, paths: Iterable[str], *, batch_size: int, progress: bool = True
) -> RunStats:
    """Feed every line of every file (``-`` is stdin) to ``pipeline``; blank lines are skipped.

    A progress bar shows bytes read against the files' total size.
    """
    paths = list(paths)
    total = sum(Path(p).stat().st_size for p in paths if p != "-")
    columns = (
        TextColumn("[bold]replay"),
        BarColumn(),
        TextColumn("{task.fields[events]} records"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("replay", total=total or None, events=0)
        for path in paths:
            with _open(path) as stream:
                for batch, size in _batches(_records(stream, path), batch_size):
                    pipeline.process(batch)
                    bar.update(task, advance=size, events=pipeline.stats.read)
    return pipeline.stats


def _open(path: str) -> AbstractContextManager[BinaryIO]:
    if path == "-":
        return nullcontext(sys.stdin.buffer)  # stdin stays open after the replay
    return open(path, "rb")


def _records(stream: BinaryIO, name: str) -> Iterator[tuple[RawRecord, int]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield RawRecord(line.rstrip(b"\r\n"), f"{name}:{number}"), len(line)


def _batches(
    records: Iterator[tuple[RawRecord, int]], size: int
) -> Iterator[tuple[list[RawRecord], int]]:
    batch: list[RawRecord] = []
    consumed = 0
    for record, length in records:
        batch.append(record)
        consumed += length
        if len(batch) >= size:
            yield batch, consumed
            batch, consumed = [], 0
    if batch:
        yield batch, consumed
