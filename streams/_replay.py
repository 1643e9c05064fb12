"""The file runner: replay JSON Lines files (or stdin) through the pipeline, in batches.

Several files are merged by event time, so replaying an orders export and a stock export
together gives the same tickets as the live stream that interleaved them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack

from monitor import Pipeline, RawRecord, RunStats

from ._files import progress_bar, read_records, total_size


def replay(
    pipeline: Pipeline, paths: Iterable[str], *, batch_size: int, progress: bool = True
) -> RunStats:
    """Feed every line of every file (``-`` is stdin) to ``pipeline``; blank lines are skipped.

    A progress bar shows bytes read against the files' total size.
    """
    paths = list(paths)
    with ExitStack() as files, progress_bar("replay", enabled=progress) as bar:
        task = bar.add_task("replay", total=total_size(paths) or None, records=0)
        for batch, size in _batches(read_records(paths, files), batch_size):
            pipeline.process(batch)
            bar.update(task, advance=size, records=pipeline.stats.read)
    return pipeline.stats


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
