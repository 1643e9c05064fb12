"""Running an import: read the files, turn each main row into events, write them sorted by
event time, and write every row that gave no event (and why) to the rejects file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from .._errors import EventError, ImportMappingError
from .._events import validate_event
from ._mapping import JoinSpec, Mapping
from ._tables import CsvFormat, Index, Reject, Row, Table, read_table
from ._values import Scope

Progress = Callable[[int, int], None]
"""Told ``(rows done, rows in all)`` as an import goes."""

_PROGRESS_EVERY = 500


@dataclass(frozen=True)
class ImportReport:
    """What an import did: main rows read, events written by type, rejects by reason."""

    rows_read: int
    events: dict[str, int]
    rejects: dict[str, int]
    out_path: Path
    rejects_path: Path

    @property
    def events_written(self) -> int:
        return sum(self.events.values())

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejects.values())


@dataclass(frozen=True)
class _Converted:
    time: datetime
    type: str
    identity: tuple[str, str]
    line: bytes


def run_import(
    mapping: Mapping,
    inputs: Path,
    out_path: Path,
    rejects_path: Path | None = None,
    *,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``inputs`` (the main CSV file, or the folder holding the mapping's files; joined
    files are read beside the main one) into ``out_path`` as CloudEvents JSONL sorted by
    time. Rows that give no event go to ``rejects_path`` (default ``OUT.rejects.jsonl``).
    Raise ``ImportMappingError`` if the files cannot be read or lack a mapped column."""
    main_path = _main_path(mapping, inputs)
    main = read_table(main_path, mapping.csv)
    joined = {join.name: _read_join(join, main_path.parent, mapping.csv) for join in mapping.joins}
    try:
        mapping.check(main.header, {name: table.header for name, table in joined.items()})
    except ImportMappingError as error:
        hints = (table.delimiter_hint(mapping.csv) for table in (main, *joined.values()))
        raise ImportMappingError("; ".join([str(error), *filter(None, hints)])) from None
    rejects = list(main.rejects)
    indexes = {}
    for join in mapping.joins:
        indexes[join.name], bad = Index.build(joined[join.name], join.key, unique=not join.many)
        rejects.extend(joined[join.name].rejects + bad)

    events: list[_Converted] = []
    seen: set[tuple[str, str]] = set()
    total = len(main.rows)
    for done, row in enumerate(main.rows, 1):
        try:
            converted = _events_of(mapping, row, indexes, seen)
        except EventError as error:
            rejects.append(Reject(row, error))
        else:
            events.extend(converted)
            seen.update(event.identity for event in converted)
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    for join in mapping.joins:
        if join.many:
            orphan = EventError("orphan", f"no row of {main_path} has this {join.on}")
            rejects.extend(Reject(row, orphan) for row in indexes[join.name].unmatched())

    events.sort(key=lambda event: event.time)
    rejects.sort(key=lambda reject: (reject.row.file, reject.row.line))
    rejects_path = rejects_path or default_rejects_path(out_path)
    _write(out_path, (event.line for event in events))
    _write(rejects_path, (orjson.dumps(reject.record()) for reject in rejects))
    return ImportReport(
        rows_read=total + len(main.rejects),
        events=dict(sorted(Counter(event.type for event in events).items())),
        rejects=dict(sorted(Counter(reject.error.reason for reject in rejects).items())),
        out_path=out_path,
        rejects_path=rejects_path,
    )


def default_rejects_path(out_path: Path) -> Path:
    """``OUT.rejects.jsonl`` beside ``OUT.jsonl``."""
    return out_path.with_name(f"{out_path.name.removesuffix('.jsonl')}.rejects.jsonl")


def _main_path(mapping: Mapping, inputs: Path) -> Path:
    if not inputs.is_dir():
        return inputs
    if mapping.rows is None:
        raise ImportMappingError(f"{mapping.path} names no 'rows' file: give the CSV file")
    return inputs / mapping.rows


def _read_join(join: JoinSpec, folder: Path, form: CsvFormat) -> Table:
    try:
        return read_table(folder / join.file, form)
    except ImportMappingError as error:
        raise ImportMappingError(f"{join.where}: {error}") from None


def _events_of(
    mapping: Mapping, row: Row, indexes: dict[str, Index], seen: set[tuple[str, str]]
) -> list[_Converted]:
    """The validated, serialised events of one row; ``EventError`` rejects the whole row."""
    one: dict[str, Row | None] = {}
    many: dict[str, list[Row]] = {}
    for join in mapping.joins:
        matched = indexes[join.name].match(row.cells[join.on])
        if join.required and not matched:
            problem = f"no row of {join.file} has {join.key} {row.cells[join.on]!r}"
            raise EventError("join-miss", problem)
        if join.many:
            many[join.name] = matched
        else:
            one[join.name] = matched[0] if matched else None
    converted: list[_Converted] = []
    for document in mapping.build(Scope(row, mapping.params, one, many)):
        label = f"[{document['type']}]"
        try:
            line = orjson.dumps(document, option=orjson.OPT_UTC_Z)
        except orjson.JSONEncodeError as error:
            raise EventError("invalid-data", f"{label} {error}") from None
        try:
            event = validate_event(orjson.loads(line))
        except EventError as error:
            raise EventError(error.reason, f"{label} {error.detail}") from None
        identity = (event.source, event.id)
        if identity in seen or any(done.identity == identity for done in converted):
            raise EventError("duplicate-id", f"{event.source} {event.id} is already imported")
        converted.append(_Converted(event.time, event.type, identity, line))
    return converted


def _write(path: Path, lines: Iterable[bytes]) -> None:
    try:
        with path.open("wb") as handle:
            for line in lines:
                handle.write(line + b"\n")
    except OSError as error:
        raise ImportMappingError(f"cannot write {path}: {error.strerror}") from None
