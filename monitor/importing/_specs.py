"""Value specs from YAML: a column name, a constant, or a mapping with one source key
(``column``, ``const``, ``param``, ``template``, ``expr``, an aggregate, ``each``) and
modifiers (``type``, ``format``, ``pad``, ``round``, ``required``); a mapping without a
source key is a nested object."""

from __future__ import annotations

import collections.abc as abc
import re
from dataclasses import replace
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import ImmutableSandboxedEnvironment
from ruamel.yaml import CommentedMap

from ._convert import CONVERTERS, NUMBER_TYPES, TIME_TYPES, Clock, Convert
from ._nodes import At, entries, flag, get, scalar, table, text, texts
from ._values import AGGREGATES, Aggregate, Column, Const, Each, Expr, Obj, Template, Value

MODIFIERS = frozenset({"type", "format", "pad", "round", "required"})
LEAVES = ("column", "const", "param", "template", "expr")
SOURCES = frozenset({*LEAVES, *AGGREGATES, "each"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_]\w*")


def name(node: Any, at: At) -> str:
    """An identifier: usable in templates and expressions."""
    if not isinstance(node, str) or not _NAME.fullmatch(node):
        raise at.error(f"{node!r} is not a name (letters, digits, _)")
    return node


def template(node: Any, at: At) -> tuple[tuple[str, str | None], ...]:
    """``"text {column} text"`` as ``(literal, placeholder)`` parts, the last without one."""
    source = text(node, at)
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        parts.append((source[position : match.start()], match.group(1).strip()))
        position = match.end()
    parts.append((source[position:], None))
    if any("{" in literal or "}" in literal or key == "" for literal, key in parts):
        raise at.error(f"bad template {source!r}: placeholders are {{column}}")
    return tuple(parts)


class _NativeSandbox(NativeEnvironment, ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no private attributes, no mutating calls, no unsafe callables),
    rendering native values as ``NativeEnvironment`` does: a mapping file may come from
    anyone who can edit a preset or pass ``--mapping``, and must not reach Python."""


class SpecReader:
    """Reads value specs for one mapping: its clock, its parameters, one Jinja environment
    (each expression is compiled once, here)."""

    def __init__(self, clock: Clock, params: abc.Mapping[str, Any]) -> None:
        self.clock = clock
        self.params = params
        self.jinja = _NativeSandbox()

    def value(self, node: Any, at: At, default_type: str | None = None) -> Value:
        """A value spec; ``default_type`` applies when the spec names none."""
        if isinstance(node, bool | int | float):
            return Const(node, Convert(self.clock, type=default_type), str(at))
        if isinstance(node, str):
            return Column(text(node, at), Convert(self.clock, type=default_type), str(at))
        if not isinstance(node, CommentedMap) or not node:
            raise at.error("expected a column name, a number, a value spec or an object")
        sources = [key for key in node if key in SOURCES]
        if not sources:
            return self.object(node, at)
        if len(sources) > 1:
            raise at.error(f"one source per value, got {', '.join(sources)}")
        source = sources[0]
        if source == "each":
            return self._each(node, at)
        if source in AGGREGATES:
            return self._aggregate(source, node, at)
        table(node, at, MODIFIERS | {source})
        convert = self._convert(node, at, default_type)
        return self._leaf(source, node[source], at.key(node, source), convert, str(at))

    def object(self, node: Any, at: At) -> Obj:
        """A nested object: field name → value spec."""
        return Obj(
            tuple((name(k, where), self.value(v, where)) for k, v, where in entries(node, at))
        )

    def _leaf(self, source: str, node: Any, at: At, convert: Convert, where: str) -> Value:
        if source == "column":
            return Column(text(node, at), convert, where)
        if source == "const":
            return Const(scalar(node, at), convert, where)
        if source == "template":
            return Template(template(node, at), convert, where)
        if source == "param":
            if text(node, at) not in self.params:
                raise at.error(f"unknown parameter {node!r}")
            return Const(self.params[node], convert, where)
        source_text = text(node, at)  # an "expr"
        try:
            compiled = self.jinja.compile_expression(source_text)
            parsed = self.jinja.parse(f"{{{{ ({source_text}) }}}}")
        except TemplateSyntaxError as error:
            raise at.error(f"invalid expression {source_text!r}: {error.message}") from None
        for node in parsed.find_all(nodes.Getattr):
            if node.attr.startswith("_"):  # the sandbox refuses it too, but per row
                raise at.error(f"invalid expression {source_text!r}: {node.attr} is private")
        variables = frozenset(meta.find_undeclared_variables(parsed) - self.jinja.globals.keys())
        return Expr(source_text, compiled, variables, convert, where)

    def _aggregate(self, op: str, node: CommentedMap, at: At) -> Aggregate:
        table(node, at, MODIFIERS | {op, "of"}, set() if op == "count" else {"of"})
        of = get(node, "of", at, texts) or ()
        if len(of) > 1 and op != "sum":
            raise at.key(node, "of").error(f"{op} reads one column")
        convert = self._convert(node, at, "float" if op == "sum" else None)
        return Aggregate(
            op=op,
            join=text(node[op], at.key(node, op)),
            of=of,
            element=replace(convert, digits=None, required=False),
            result=Convert(self.clock, digits=convert.digits, required=convert.required),
            where=str(at),
        )

    def _each(self, node: CommentedMap, at: At) -> Each:
        table(node, at, {"each", "fields"}, {"each", "fields"})
        fields = self.object(node["fields"], at.key(node, "fields"))
        return Each(text(node["each"], at.key(node, "each")), fields, str(at))

    def _convert(self, node: CommentedMap, at: At, default_type: str | None) -> Convert:
        kind = node.get("type", default_type)
        if kind is not None and kind not in CONVERTERS:
            raise at.key(node, "type").error(
                f"unknown type, expected one of {', '.join(CONVERTERS)}"
            )
        clock = self.clock
        if "format" in node:
            if kind not in TIME_TYPES:
                raise at.key(node, "format").error("format goes with a time type")
            clock = replace(clock, formats=texts(node["format"], at.key(node, "format")))
        pad = node.get("pad")
        if pad is not None and (isinstance(pad, bool) or not isinstance(pad, int) or pad < 1):
            raise at.key(node, "pad").error("expected a positive width")
        digits = node.get("round")
        if digits is not None and (kind not in NUMBER_TYPES or not isinstance(digits, int)):
            raise at.key(node, "round").error("round takes a number of digits, with a number type")
        required = get(node, "required", at, flag) or False
        return Convert(clock, type=kind, pad=pad, digits=digits, required=required)
