"""Reading JSON Lines files (or stdin) as raw records, several files merged by event time,
with a progress bar over the bytes read: what the replay and the producer share."""

from __future__ import annotations

import heapq
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import orjson
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from monitor import RawRecord

_Timed = tuple[float, RawRecord, int]


def total_size(paths: Sequence[str]) -> int:
    """Bytes in the files (stdin counts as nothing)."""
    return sum(Path(p).stat().st_size for p in paths if p != "-")


def progress_bar(label: str, *, enabled: bool) -> Progress:
    """A bar of bytes read, with the records count and the speed."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TextColumn("{task.fields[records]:,} records"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def read_records(paths: Sequence[str], files: ExitStack) -> Iterator[tuple[RawRecord, int]]:
    """Every non-blank line of every file (``-`` is stdin) with its size in bytes; several
    files are merged by event time (each is expected in time order, as ``riskmon import``
    writes them)."""
    timed = len(paths) > 1  # one file needs no merge key
    streams = [_records(_open(path, files), path, timed=timed) for path in paths]
    merged = heapq.merge(*streams, key=_time) if timed else streams[0]
    for _, record, size in merged:
        yield record, size


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
