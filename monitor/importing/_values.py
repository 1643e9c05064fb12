"""Value specs: how one output field is computed from a row, its joins and the parameters.

Every spec can ``evaluate`` (``None`` means absent: the field is left out) and ``check``
that the columns it reads exist, so a misspelt column is refused before any row is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jinja2.environment import TemplateExpression

from .._errors import EventError, ImportMappingError
from ._convert import Convert
from ._tables import Row


@dataclass(frozen=True)
class Names:
    """The names a spec may read: columns (with derived values), and the joined files'."""

    columns: frozenset[str]
    one: Mapping[str, frozenset[str]] = field(default_factory=dict)
    many: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def require(self, name: str, where: str) -> None:
        """Refuse ``name`` unless it is a column or ``join.column`` of a one-to-one join."""
        join, _, column = name.partition(".")
        if name not in self.columns and column not in self.one.get(join, ()):
            raise ImportMappingError(f"{where}: unknown column {name!r}")

    def rows_of(self, join: str, columns: Sequence[str], where: str) -> Names:
        """The names inside a one-to-many ``join``, after checking ``columns`` are among them."""
        if join not in self.many:
            raise ImportMappingError(f"{where}: {join!r} is not a one-to-many join")
        inner = Names(self.many[join])
        for column in columns:
            inner.require(column, where)
        return inner

    def variables(self) -> frozenset[str]:
        """The top-level names an expression may use."""
        return self.columns | self.one.keys() | self.many.keys() | {"params"}


@dataclass
class Scope:
    """What one row's specs read: the row, its joined rows, derived values, parameters."""

    row: Row
    params: Mapping[str, Any]
    one: Mapping[str, Row | None] = field(default_factory=dict)
    many: Mapping[str, Sequence[Row]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        """A column, derived value or ``join.column`` (``None`` when absent)."""
        if name in self.values:
            return self.values[name]
        if name in self.row.cells:
            return self.row.cells[name]
        join, _, column = name.partition(".")
        joined = self.one.get(join)
        return None if joined is None else joined.cells.get(column)

    def element(self, row: Row) -> Scope:
        """The scope of one row of a one-to-many join."""
        return Scope(row, self.params)

    def variable(self, name: str) -> Any:
        """An expression variable: a column or derived value, a joined row's cells (a list
        of them for a one-to-many join), or ``params``."""
        if name == "params":
            return self.params
        if name in self.many:
            return [row.cells for row in self.many[name]]
        if name in self.one:
            joined = self.one[name]
            return None if joined is None else joined.cells
        return self.get(name)


class Value(Protocol):
    """One field's computation."""

    def evaluate(self, scope: Scope, path: str) -> Any:
        """The field's value for ``scope`` (``None``: absent); ``EventError`` if it cannot be."""
        ...

    def check(self, names: Names) -> None:
        """Raise ``ImportMappingError`` if the spec reads a name that ``names`` lacks."""
        ...


def _per_row(rows: Sequence[Row], path: str, evaluate: Callable[[Row, str], Any]) -> list[Any]:
    """``evaluate`` for each joined row; a failure names the row's file and line."""
    results = []
    for index, row in enumerate(rows):
        try:
            results.append(evaluate(row, f"{path}[{index}]"))
        except EventError as error:
            raise EventError(error.reason, f"{error.detail} (at {row.file}:{row.line})") from None
    return results


@dataclass(frozen=True)
class Column:
    """A cell of the row (or of a one-to-one joined row, ``join.column``), or a derived value."""

    name: str
    convert: Convert
    where: str

    def evaluate(self, scope: Scope, path: str) -> Any:
        return self.convert.apply(scope.get(self.name), path)

    def check(self, names: Names) -> None:
        names.require(self.name, self.where)


@dataclass(frozen=True)
class Const:
    """A constant, or a parameter's value (fixed when the mapping is loaded)."""

    value: Any
    convert: Convert
    where: str

    def evaluate(self, scope: Scope, path: str) -> Any:
        return self.convert.apply(self.value, path)

    def check(self, names: Names) -> None:
        pass


@dataclass(frozen=True)
class Template:
    """Text with ``{name}`` placeholders; absent as a whole if any placeholder is absent."""

    parts: tuple[tuple[str, str | None], ...]
    convert: Convert
    where: str

    def evaluate(self, scope: Scope, path: str) -> Any:
        pieces = []
        for literal, name in self.parts:
            pieces.append(literal)
            if name is not None:
                value = scope.get(name)
                if value is None:
                    return self.convert.apply(None, path)
                pieces.append(str(value))
        return self.convert.apply("".join(pieces), path)

    def check(self, names: Names) -> None:
        for _, name in self.parts:
            if name is not None:
                names.require(name, self.where)


@dataclass(frozen=True)
class Expr:
    """A Jinja2 expression, compiled once when the mapping is loaded."""

    source: str
    compiled: TemplateExpression
    variables: frozenset[str]
    convert: Convert
    where: str

    def evaluate(self, scope: Scope, path: str) -> Any:
        try:
            value = self.compiled(**{name: scope.variable(name) for name in self.variables})
        except Exception as error:  # an expression can raise anything; it rejects the row
            raise EventError("bad-expression", f"{path}: {self.source}: {error}") from None
        return self.convert.apply(value, path)

    def check(self, names: Names) -> None:
        unknown = self.variables - names.variables()
        if unknown:
            raise ImportMappingError(f"{self.where}: unknown name(s) {', '.join(sorted(unknown))}")


def _sum(values: list[Any]) -> Any:
    return sum(values) if values else None


AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "sum": _sum,
    "min": lambda values: min(values) if values else None,
    "max": lambda values: max(values) if values else None,
    "count": len,
    "distinct": lambda values: list(dict.fromkeys(values)) if values else None,
}


@dataclass(frozen=True)
class Aggregate:
    """``op`` over the rows of a one-to-many join; each row gives the ``element``-converted
    value of its ``of`` column (the sum of several columns for ``sum``; the row itself for a
    bare ``count``). Absent values are skipped; with none left, ``count`` is 0 and the
    others are absent."""

    op: str
    join: str
    of: tuple[str, ...]
    element: Convert
    result: Convert
    where: str

    def evaluate(self, scope: Scope, path: str) -> Any:
        values = _per_row(scope.many[self.join], path, self._value)
        present = [value for value in values if value is not None]
        return self.result.apply(AGGREGATES[self.op](present), path)

    def _value(self, row: Row, path: str) -> Any:
        if not self.of:
            return row
        parts = [self.element.apply(row.cells[c], f"{path}.{c}") for c in self.of]
        present = [part for part in parts if part is not None]
        return _sum(present) if len(self.of) > 1 else parts[0]

    def check(self, names: Names) -> None:
        names.rows_of(self.join, self.of, self.where)


@dataclass(frozen=True)
class Obj:
    """A nested object; fields whose value is absent (or an empty object) are left out."""

    fields: tuple[tuple[str, Value], ...]

    def evaluate(self, scope: Scope, path: str) -> dict[str, Any]:
        result = {}
        for name, spec in self.fields:
            value = spec.evaluate(scope, f"{path}.{name}")
            if value is not None and value != {}:
                result[name] = value
        return result

    def check(self, names: Names) -> None:
        for _, spec in self.fields:
            spec.check(names)


@dataclass(frozen=True)
class Each:
    """One object per row of a one-to-many join."""

    join: str
    fields: Obj
    where: str

    def evaluate(self, scope: Scope, path: str) -> list[dict[str, Any]]:
        return _per_row(
            scope.many[self.join],
            path,
            lambda row, where: self.fields.evaluate(scope.element(row), where),
        )

    def check(self, names: Names) -> None:
        self.fields.check(names.rows_of(self.join, (), self.where))
