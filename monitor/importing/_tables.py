"""CSV files in, rows out: each row keeps its file, starting line and raw cells for rejects;
joined files are indexed by their key column."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
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

    file: str
    header: tuple[str, ...]
    rows: list[Row]
    rejects: list[Reject]

    def delimiter_hint(self, form: CsvFormat) -> str | None:
        """A guess at the delimiter when the header reads as one column holding another
        likely delimiter (a ``;`` export read as ``,``), for messages about missing columns."""
        if len(self.header) != 1:
            return None
        for candidate in _DELIMITERS:
            if candidate != form.delimiter and candidate in self.header[0]:
                setting = f"csv: {{delimiter: {candidate!r}}}".replace("'", '"')
                return (
                    f"{self.file} has one column {self.header[0]!r}: "
                    f"is it delimited by {candidate!r}? Set {setting} in the mapping"
                )
        return None


_DELIMITERS = (";", "\t", "|", ",")

# exports hold free-text fields (descriptions, reviews) longer than csv's 128 KiB default;
# the limit guards against hostile input, and these are our own systems' files
_FIELD_LIMIT = 64 * 1024 * 1024


def read_table(path: Path, form: CsvFormat) -> Table:
    """Read ``path``; unreadable files raise ``ImportMappingError``, bad rows become rejects
    (``bad-encoding``: bytes that are not ``form.encoding``; ``bad-csv``: a record csv cannot
    parse; ``bad-row``: a wrong number of fields)."""
    name = str(path)
    rows: list[Row] = []
    rejects: list[Reject] = []
    # the limit is process-wide: only ever raised, so other readers lose nothing
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    try:
        # undecodable bytes become lone surrogates, so that only their record is rejected
        with path.open(newline="", encoding=form.encoding, errors="surrogateescape") as handle:
            reader = csv.reader(handle, delimiter=form.delimiter)
            header = tuple(cell.strip() for cell in next(reader, []))
            if not header or len(set(header)) != len(header):
                raise ImportMappingError(f"{name}:1: missing or repeated column names")
            if _undecodable(header) is not None:
                raise ImportMappingError(f"{name}:1: the header is not {form.encoding} text")
            start = reader.line_num + 1
            while True:
                try:
                    record = next(reader, None)
                except csv.Error as error:
                    if reader.line_num < start:  # nothing consumed: it would fail again
                        raise
                    problem = EventError("bad-csv", str(error))
                    rejects.append(Reject(Row(name, start, [], {}), problem))
                    start = reader.line_num + 1
                    continue
                if record is None:
                    break
                line, start = start, reader.line_num + 1
                if not record:
                    continue
                reject = _check(record, header, form)
                if reject is not None:
                    rejects.append(Reject(Row(name, line, _printable(record, header), {}), reject))
                    continue
                raw = dict(zip(header, record, strict=True))
                cells = {key: value.strip() or None for key, value in raw.items()}
                rows.append(Row(name, line, raw, cells))
    except OSError as error:
        raise ImportMappingError(f"cannot read {name}: {error.strerror}") from None
    except csv.Error as error:
        raise ImportMappingError(f"{name}: not a readable {form.encoding} CSV: {error}") from None
    return Table(name, header, rows, rejects)


def _check(record: list[str], header: tuple[str, ...], form: CsvFormat) -> EventError | None:
    """Why a record cannot be a row, if it cannot."""
    bad = _undecodable(record)
    if bad is not None:
        index, byte = bad
        column = repr(header[index]) if index < len(header) else f"#{index + 1}"
        return EventError(
            "bad-encoding", f"column {column}: byte 0x{byte:02x} is not {form.encoding} text"
        )
    if len(record) != len(header):
        return EventError("bad-row", f"expected {len(header)} fields, got {len(record)}")
    return None


def _undecodable(cells: Sequence[str]) -> tuple[int, int] | None:
    """The first cell holding an undecodable byte, and that byte."""
    for index, cell in enumerate(cells):
        found = _ESCAPED.search(cell)
        if found is not None:
            return index, _byte(found)
    return None


def _printable(record: list[str], header: tuple[str, ...]) -> dict[str, str] | list[str]:
    """The raw record of a reject, with undecodable bytes written ``\\xe9`` (JSON cannot
    hold them); by column when it has the header's length."""
    cells = [_ESCAPED.sub(lambda found: f"\\x{_byte(found):02x}", cell) for cell in record]
    return dict(zip(header, cells, strict=True)) if len(cells) == len(header) else cells


# how errors="surrogateescape" reads a byte the encoding cannot decode
_ESCAPED = re.compile("[\udc80-\udcff]")


def _byte(found: re.Match[str]) -> int:
    return ord(found.group()) - 0xDC00


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
