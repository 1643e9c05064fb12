"""The file runner: replay JSON Lines files (or stdin) through the pipeline, in batches.

Several files are merged by event time (each is expected in time order, as ``riskmon
import`` writes them), so replaying an orders export and a stock export together gives the
same tickets as the live stream that interleaved them.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import orjson
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from monitor import Pipeline, RawRecord, RunStats

_Timed = tuple[float, RawRecord, int]


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
        TextColumn("{task.fields[events]:,} records"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with ExitStack() as files, Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("replay", total=total or None, events=0)
        timed = len(paths) > 1  # one file needs no merge key
        streams = [_records(_open(path, files), path, timed=timed) for path in paths]
        merged = heapq.merge(*streams, key=_time) if timed else streams[0]
        for batch, size in _batches(merged, batch_size):
            pipeline.process(batch)
            bar.update(task, advance=size, events=pipeline.stats.read)
    return pipeline.stats


def _open(path: str, files: ExitStack) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer  # left open: it is not ours
    return files.enter_context(open(path, "rb"))


def _records(stream: BinaryIO, name: str, *, timed: bool) -> Iterator[_Timed]:
    """Records with their event time; a line without a readable time keeps the time of the
    line before it, so it stays in place when files are merged."""
    moment = float("-inf")
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        if line.strip():
            moment = _event_time(line, moment) if timed else moment
            yield moment, RawRecord(line.rstrip(b"\r\n"), f"{name}:{number}"), len(line)


def _event_time(line: bytes, fallback: float) -> float:
    try:
        return datetime.fromisoformat(orjson.loads(line)["time"]).timestamp()
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return fallback


def _time(item: _Timed) -> float:
    return item[0]


def _batches(records: Iterator[_Timed], size: int) -> Iterator[tuple[list[RawRecord], int]]:
    batch: list[RawRecord] = []
    consumed = 0
    for _, record, length in records:
        batch.append(record)
        consumed += length
        if len(batch) >= size:
            yield batch, consumed
            batch, consumed = [], 0
    if batch:
        yield batch, consumed
