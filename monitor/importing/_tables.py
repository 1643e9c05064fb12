"""CSV files in, rows out: each row keeps its file, starting line and raw cells for rejects;
joined files are indexed by their key column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import EventError, ImportMappingError


@dataclass(frozen=True)
class CsvFormat:
    """How a mapping's CSV files are written."""

    delimiter: str = ","
    encoding: str = "utf-8-sig"


@dataclass(frozen=True)
class Row:
    """One CSV record: ``raw`` as read (a list when its field count is wrong), ``cells``
    stripped with empty cells as ``None``."""

    file: str
    line: int
    raw: dict[str, str] | list[str]
    cells: dict[str, str | None]


@dataclass(frozen=True)
class Reject:
    """A row that became no event, and why."""

    row: Row
    error: EventError

    def record(self) -> dict[str, object]:
        """The reject as a JSON-ready mapping."""
        return {
            "file": self.row.file,
            "line": self.row.line,
            "reason": self.error.reason,
            "detail": self.error.detail,
            "row": self.row.raw,
        }


@dataclass(frozen=True)
class Table:
    """A CSV file read whole: its header, its well-formed rows, and its misshapen ones."""

    header: tuple[str, ...]
    rows: list[Row]
    rejects: list[Reject]


def read_table(path: Path, form: CsvFormat) -> Table:
    """Read ``path``; unreadable files raise ``ImportMappingError``, bad rows become rejects."""
    name = str(path)
    rows: list[Row] = []
    rejects: list[Reject] = []
    try:
        with path.open(newline="", encoding=form.encoding) as handle:
            reader = csv.reader(handle, delimiter=form.delimiter)
            header = tuple(cell.strip() for cell in next(reader, []))
            if not header or len(set(header)) != len(header):
                raise ImportMappingError(f"{name}:1: missing or repeated column names")
            start = reader.line_num + 1
            for record in reader:
                line, start = start, reader.line_num + 1
                if not record:
                    continue
                if len(record) != len(header):
                    problem = f"expected {len(header)} fields, got {len(record)}"
                    rejects.append(
                        Reject(Row(name, line, record, {}), EventError("bad-row", problem))
                    )
                    continue
                raw = dict(zip(header, record, strict=True))
                cells = {key: value.strip() or None for key, value in raw.items()}
                rows.append(Row(name, line, raw, cells))
    except OSError as error:
        raise ImportMappingError(f"cannot read {name}: {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportMappingError(f"{name}: not a readable {form.encoding} CSV: {error}") from None
    return Table(header, rows, rejects)


@dataclass
class Index:
    """A joined file's rows by key; remembers which keys were asked for."""

    key: str
    rows: dict[str, list[Row]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, table: Table, key: str, *, unique: bool) -> tuple[Index, list[Reject]]:
        """Index ``table`` by column ``key``; rows without a key, and repeats of a key when
        ``unique``, are returned as rejects."""
        index = cls(key)
        rejects = []
        for row in table.rows:
            value = row.cells[key]
            if value is None:
                rejects.append(Reject(row, EventError("missing-key", f"{key} is empty")))
            elif unique and value in index.rows:
                first = index.rows[value][0].line
                problem = f"{key} {value!r} already on line {first}"
                rejects.append(Reject(row, EventError("duplicate-key", problem)))
            else:
                index.rows.setdefault(value, []).append(row)
        return index, rejects

    def match(self, value: str | None) -> list[Row]:
        """The rows whose key equals ``value`` (none for an empty value)."""
        if value is None or value not in self.rows:
            return []
        self.used.add(value)
        return self.rows[value]

    def unmatched(self) -> Iterator[Row]:
        """Rows whose key no one asked for."""
        for value, rows in self.rows.items():
            if value not in self.used:
                yield from rows
