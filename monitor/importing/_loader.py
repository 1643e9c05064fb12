"""Mapping files: YAML → a checked ``Mapping``, one small reader per section.

Every refusal is an ``ImportMappingError`` naming ``file:line`` and the key path.
"""

from __future__ import annotations

import codecs
import collections.abc as abc
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML, CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from .._errors import EventError, ImportMappingError
from .._events import EVENT_TYPES
from ._convert import TIME_TYPES, Clock, Convert
from ._mapping import Derived, EventSpec, JoinSpec, Mapping
from ._nodes import At, Scalar, entries, flag, get, scalar, table, text, texts
from ._specs import SpecReader, name, template
from ._tables import CsvFormat
from ._values import Column, Const, Expr, Template

_TOP = frozenset(
    {"description", "rows", "csv", "timezone", "timestamp_formats"}
    | {"params", "joins", "derive", "events"}
)
_EVENT_KEYS = frozenset({"type", "id", "source", "subject", "time", "data"})
_JOIN_KEYS = frozenset({"file", "on", "key", "many", "required"})


def load_mapping(path: Path | str, params: abc.Mapping[str, Scalar] | None = None) -> Mapping:
    """Read and check the mapping file ``path``; ``params`` override its parameter defaults
    (strings, as from the command line, take the default's type). Raise
    ``ImportMappingError`` naming ``file:line`` if the file is invalid."""
    path = Path(path)
    try:
        data = path.read_bytes()
        document = YAML(typ="rt").load(data.decode("utf-8"))
    except OSError as error:
        raise ImportMappingError(f"cannot read mapping {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise ImportMappingError(f"{path}:{line}: byte 0x{byte:02x} is not UTF-8 text") from None
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or error
        raise ImportMappingError(f"{path}:{line}: not valid YAML: {problem}") from None
    at = At(str(path), 1)
    doc = table(document, at, _TOP, {"events"})
    params = _params(doc, at, params or {})
    specs = SpecReader(_clock(doc, at), params)
    return Mapping(
        path=path,
        rows=get(doc, "rows", at, text),
        csv=_csv(doc, at),
        params=params,
        joins=_joins(doc, at),
        derived=tuple(
            Derived(name(key, where), specs.value(node, where), str(where))
            for key, node, where in _section(doc, "derive", at)
        ),
        events=_events(doc, at, specs),
    )


def _section(doc: CommentedMap, key: str, at: At) -> list[tuple[str, Any, At]]:
    return entries(doc[key], at.key(doc, key)) if key in doc else []


def _clock(doc: CommentedMap, at: At) -> Clock:
    zone = get(doc, "timezone", at, text) or "UTC"
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise at.key(doc, "timezone").error(f"unknown time zone {zone!r}") from None
    return Clock(tz, get(doc, "timestamp_formats", at, texts) or ())


def _csv(doc: CommentedMap, at: At) -> CsvFormat:
    if "csv" not in doc:
        return CsvFormat()
    where = at.key(doc, "csv")
    node = table(doc["csv"], where, {"delimiter", "encoding"})
    delimiter = get(node, "delimiter", where, text) or ","
    if len(delimiter) != 1:
        raise where.key(node, "delimiter").error("expected one character")
    encoding = get(node, "encoding", where, text) or "utf-8-sig"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise where.key(node, "encoding").error(f"unknown encoding {encoding!r}") from None
    return CsvFormat(delimiter, encoding)


def _params(doc: CommentedMap, at: At, overrides: abc.Mapping[str, Scalar]) -> dict[str, Scalar]:
    params = {
        name(key, where): scalar(node, where) for key, node, where in _section(doc, "params", at)
    }
    for key, value in overrides.items():
        if key not in params:
            known = ", ".join(params) or "none"
            raise ImportMappingError(f"{at.file}: unknown parameter {key!r} (known: {known})")
        params[key] = _coerce(key, value, params[key])
    return params


def _coerce(key: str, value: Scalar, default: Scalar) -> Scalar:
    """An override as the type of its default (command-line values come as strings)."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    kind = "bool" if isinstance(default, bool) else "float"
    try:
        result = Convert(Clock(UTC), type=kind).apply(value.strip(), f"parameter {key}")
    except EventError as error:
        raise ImportMappingError(error.detail) from None
    return int(result) if kind == "float" and result.is_integer() else result


def _joins(doc: CommentedMap, at: At) -> tuple[JoinSpec, ...]:
    joins = []
    for key, node, where in _section(doc, "joins", at):
        table(node, where, _JOIN_KEYS, {"file", "on"})
        on = text(node["on"], where.key(node, "on"))
        joins.append(
            JoinSpec(
                name=name(key, where),
                file=text(node["file"], where.key(node, "file")),
                on=on,
                key=get(node, "key", where, text) or on,
                many=get(node, "many", where, flag) or False,
                required=get(node, "required", where, flag) or False,
                where=str(where),
            )
        )
    return tuple(joins)


def _events(doc: CommentedMap, at: At, specs: SpecReader) -> tuple[EventSpec, ...]:
    node, where = doc["events"], at.key(doc, "events")
    if not isinstance(node, CommentedSeq) or not node:
        raise where.error("expected a non-empty list of event specs")
    return tuple(_event(spec, where.item(node, i), specs) for i, spec in enumerate(node))


def _event(node: Any, at: At, specs: SpecReader) -> EventSpec:
    table(node, at, _EVENT_KEYS, _EVENT_KEYS - {"subject"})
    kind = text(node["type"], at.key(node, "type"))
    if kind not in EVENT_TYPES:
        raise at.key(node, "type").error(f"unknown event type {kind!r}")
    time = specs.value(node["time"], at.key(node, "time"), default_type="timestamp")
    if (
        not isinstance(time, Column | Const | Template | Expr)
        or time.convert.type not in TIME_TYPES
    ):
        kinds = ", ".join(sorted(TIME_TYPES))
        raise at.key(node, "time").error(f"time must be a single value of type {kinds}")

    def label(key: str, required: bool) -> Template:
        where = at.key(node, key)
        return Template(
            template(node[key], where), Convert(specs.clock, required=required), str(where)
        )

    return EventSpec(
        type=kind,
        id=label("id", True),
        source=label("source", True),
        subject=label("subject", False) if "subject" in node else None,
        time=time,
        data=specs.object(node["data"], at.key(node, "data")),
    )
