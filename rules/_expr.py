"""The condition language: parse an expression into a small, normalised tree.

Conditions read like Python: ``data.on_hand < data.safety_threshold and not
exists(data.tracking_no)``. Python's own parser reads the text (``ast``, mode ``eval``); only
the node kinds in ``_BUILDERS`` are accepted. The tree that comes out is in negation normal
form: ``not`` is pushed down to comparisons, existence tests and regex matches, with one
fixed meaning for missing fields — **a comparison that reads a missing field is false**, and
``not`` is plain logical negation of that. Every comparison has a field on its left, which is
the shape the matcher compiles onto durable-rules. (Over 400 lines because parsing,
normalising and checking which fields may be read all work on the one tree.)
"""

from __future__ import annotations

import ast
import io
import operator
import re
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, TypeAlias

from ._durations import parse_duration
from ._errors import RuleError

FIELD_ROOTS = ("id", "source", "type", "time", "subject", "data")
WINDOW_ROOT = "window"  # a window rule's figures, known to its raise conditions only
WINDOW_FIELDS = ("window.count", "window.total")


@dataclass(frozen=True)
class Field:
    """A dotted path into the event, e.g. ``data.address.postcode``."""

    path: str
    steps: tuple[str, ...] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.path.split(".")))

    def get(self, fact: Mapping[str, Any]) -> Any:
        """The value at this path in an event mapping, or ``None`` when a step is missing.

        A step into a list maps over its items: ``data.items.sku`` is every item's sku.
        """
        value: Any = fact
        for index, step in enumerate(self.steps):
            if type(value) is dict:
                value = value.get(step)
            elif isinstance(value, list):
                return _through_list(value, self.steps[index:])
            elif isinstance(value, Mapping):
                value = value.get(step)
            else:
                return None
        return value

    def value_at(self, fact: Mapping[str, Any]) -> Any:
        """Like ``get``, but a list on the way means missing: what a condition may read."""
        value: Any = fact
        for step in self.steps:
            if not isinstance(value, Mapping):
                return None
            value = value.get(step)
        return value


def _through_list(items: list[Any], steps: tuple[str, ...]) -> list[Any]:
    rest = Field(".".join(steps))
    found = [rest.get(item) if isinstance(item, Mapping) else None for item in items]
    return [item for item in found if item is not None]


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Arith:
    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = Field | Const | Arith


@dataclass(frozen=True)
class Compare:
    op: str
    left: Field
    right: Operand


@dataclass(frozen=True)
class Exists:
    path: str
    present: bool = True


@dataclass(frozen=True)
class Matches:
    path: str
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


Condition: TypeAlias = Compare | Exists | Matches | And | Or
TRUE: Condition = And(())
FALSE: Condition = Or(())

_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CMP_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_FUNCTIONS = "known functions: exists(field), matches(field, 'regex'), duration('24h')"
_CONSTANT_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_CONSTANT_NAMES = {"true": True, "false": False, "null": None, "none": None}


def parse_condition(text: str, *, window: bool = False) -> Condition:
    """Parse a condition; ``RuleError`` (with the column) if it is not one.

    ``window``: it may read ``WINDOW_FIELDS`` (a window rule's raise conditions)."""
    try:
        condition = _condition(_parse(text), text)
    except RecursionError:
        raise RuleError("the expression is nested too deeply; split the rule") from None
    _check_window_fields(read_fields(condition), text, allowed=window)
    return condition


def parse_field(text: str) -> Field:
    """Parse a field path such as ``data.shipment_id``."""
    tree = _parse(text)
    operand = _operand(tree, text)
    if not isinstance(operand, Field):
        raise RuleError(f"{text!r} is not a field path such as data.order_id")
    _check_window_fields((operand.path,), text, allowed=False)
    return operand


def read_fields(condition: Condition) -> tuple[str, ...]:
    """Paths of every field the condition reads, without repeats."""
    if isinstance(condition, And | Or):
        return tuple(dict.fromkeys(path for item in condition.items for path in read_fields(item)))
    if isinstance(condition, Exists | Matches):
        return (condition.path,)
    return fields_of(condition)


def _check_window_fields(paths: tuple[str, ...], text: str, *, allowed: bool) -> None:
    for path in paths:
        if path.split(".")[0] != WINDOW_ROOT:
            continue
        if not allowed:
            raise RuleError(f"in {text!r}: {path} is known only to a window rule's raise clauses")
        if path not in WINDOW_FIELDS:
            known = ", ".join(WINDOW_FIELDS)
            raise RuleError(f"in {text!r}: unknown field {path!r}; a window has {known}")


def negate(condition: Condition) -> Condition:
    """Logical negation, pushed down to the leaves."""
    if isinstance(condition, And):
        return Or(tuple(negate(item) for item in condition.items))
    if isinstance(condition, Or):
        return And(tuple(negate(item) for item in condition.items))
    if isinstance(condition, Exists):
        return Exists(condition.path, not condition.present)
    if isinstance(condition, Matches):
        return Matches(condition.path, condition.pattern, not condition.negated)
    missing = tuple(Exists(path, False) for path in fields_of(condition))
    return Or((*missing, Compare(_INVERSE[condition.op], condition.left, condition.right)))


def fields_of(node: Condition | Operand) -> tuple[str, ...]:
    """Paths of every field a comparison or operand reads, in order, without repeats."""
    if isinstance(node, Field):
        return (node.path,)
    if isinstance(node, Compare | Arith):
        return tuple(dict.fromkeys(fields_of(node.left) + fields_of(node.right)))
    return ()


def compared_fields(condition: Condition) -> tuple[str, ...]:
    """Paths of every field the condition's comparisons read, without repeats."""
    if isinstance(condition, And | Or):
        found = (path for item in condition.items for path in compared_fields(item))
        return tuple(dict.fromkeys(found))
    return fields_of(condition) if isinstance(condition, Compare) else ()


def _parse(text: str) -> ast.expr:
    try:
        return ast.parse(_raw_strings(str(text).strip()), mode="eval").body
    except (SyntaxError, tokenize.TokenError, RecursionError, MemoryError) as error:
        offset = getattr(error, "offset", None)
        column = f" at column {offset}" if offset else ""
        message = getattr(error, "msg", None) or str(error.args[0])
        raise RuleError(f"cannot read expression {text!r}{column}: {message}") from None


def _raw_strings(text: str) -> str:
    """Make every string literal raw, so ``matches(x, '\\d{5}')`` means what it says."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.string[0] in "'\"":
            token = token._replace(string="r" + token.string)
        tokens.append(token)
    return tokenize.untokenize(tokens)


def _fail(node: ast.AST, text: str, message: str) -> RuleError:
    column = getattr(node, "col_offset", None)
    where = f" (column {column + 1})" if column is not None else ""
    return RuleError(f"in {text!r}{where}: {message}")


def _condition(node: ast.expr, text: str) -> Condition:
    builder = _BUILDERS.get(type(node))
    if builder is None:
        raise _fail(
            node, text, "expected a condition: a comparison, exists(), matches(), and/or/not"
        )
    return builder(node, text)


def _bool_op(node: ast.BoolOp, text: str) -> Condition:
    items = tuple(_condition(value, text) for value in node.values)
    return And(items) if isinstance(node.op, ast.And) else Or(items)


def _unary(node: ast.UnaryOp, text: str) -> Condition:
    if not isinstance(node.op, ast.Not):
        raise _fail(node, text, "only 'not' can stand before a condition")
    return negate(_condition(node.operand, text))


def _compare(node: ast.Compare, text: str) -> Condition:
    parts: list[Condition] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.In | ast.NotIn):
            member = _membership(left, right, text)
            parts.append(negate(member) if isinstance(op, ast.NotIn) else member)
        elif type(op) in _CMP_OPS:
            parts.append(
                _comparison(_CMP_OPS[type(op)], _operand(left, text), _operand(right, text), text)
            )
        else:
            raise _fail(node, text, "use ==, !=, <, <=, >, >=, in, not in")
        left = right
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _membership(left: ast.expr, right: ast.expr, text: str) -> Condition:
    if not isinstance(right, ast.List | ast.Tuple | ast.Set):
        raise _fail(
            right, text, "'in' takes a list of values, e.g. data.status in ['held', 'lost']"
        )
    subject = _operand(left, text)
    return Or(tuple(_comparison("==", subject, _operand(v, text), text) for v in right.elts))


def _comparison(op: str, left: Operand, right: Operand, text: str) -> Condition:
    if isinstance(left, Const) and isinstance(right, Const):
        return TRUE if _evaluate_constant(op, left.value, right.value) else FALSE
    if not isinstance(left, Field) and isinstance(right, Field):
        left, right, op = right, left, _MIRROR[op]
    is_null = isinstance(right, Const) and right.value is None
    if is_null and isinstance(left, Field) and op in ("==", "!="):
        return Exists(left.path, present=op == "!=")
    while isinstance(left, Arith) and left.op in "+-":
        left, right, op = _isolate(left, right, op)
    if not isinstance(left, Field):
        raise RuleError(
            f"in {text!r}: one side of a comparison must be a field, or a field plus or minus "
            "something (e.g. data.delivered_at > data.promised_by + duration('1d'))"
        )
    return Compare(op, left, right)


def _isolate(left: Arith, right: Operand, op: str) -> tuple[Operand, Operand, str]:
    """Move the non-field term of ``a ± b`` to the other side of the comparison."""
    inverse = "-" if left.op == "+" else "+"
    if _has_field(left.left):
        return left.left, _arith(inverse, right, left.right), op
    if left.op == "+":
        return left.right, _arith("-", right, left.left), op
    return left.right, _arith("-", left.left, right), _MIRROR[op]


def _arith(op: str, left: Operand, right: Operand) -> Operand:
    """``left op right``, computed now when both are numbers (the rule engine computes
    arithmetic on fields only)."""
    if isinstance(left, Const) and isinstance(right, Const):
        a, b = left.value, right.value
        if _is_number(a) and _is_number(b) and not (op == "/" and b == 0):
            return Const(_CONSTANT_ARITH[op](a, b))
    return Arith(op, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_field(operand: Operand) -> bool:
    return bool(fields_of(operand))


def _evaluate_constant(op: str, left: Any, right: Any) -> bool:
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    try:
        return comparisons[op](left, right)
    except TypeError:
        return False


def _operand(node: ast.expr, text: str) -> Operand:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return Const(node.value)
    if isinstance(node, ast.Constant) and node.value is None:
        return Const(None)
    if isinstance(node, ast.Name) and node.id.lower() in _CONSTANT_NAMES:
        return Const(_CONSTANT_NAMES[node.id.lower()])
    if isinstance(node, ast.Name | ast.Attribute):
        return _field(node, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _operand(node.operand, text)
        if isinstance(inner, Const) and isinstance(inner.value, int | float):
            return Const(-inner.value)
        return Arith("-", Const(0), inner)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH_OPS:
        op, right = _ARITH_OPS[type(node.op)], _operand(node.right, text)
        if op == "/" and isinstance(right, Const) and _is_number(right.value) and not right.value:
            raise _fail(node, text, "division by zero")
        return _arith(op, _operand(node.left, text), right)
    if isinstance(node, ast.Call) and _call_name(node) == "duration":
        return Const(parse_duration(_string_argument(node, 0, text)))
    if isinstance(node, ast.Call):
        raise _fail(node, text, _FUNCTIONS)
    raise _fail(node, text, "expected a field, a number, a string or arithmetic")


def _field(node: ast.Name | ast.Attribute, text: str) -> Field:
    steps: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        steps.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        raise _fail(node, text, "expected a field path such as data.order_id")
    steps.append(current.id)
    path = ".".join(reversed(steps))
    if steps[-1] not in (*FIELD_ROOTS, WINDOW_ROOT):
        roots = ", ".join(FIELD_ROOTS)
        raise _fail(node, text, f"unknown field {path!r}: fields start with one of {roots}")
    return Field(path)


def _call(node: ast.Call, text: str) -> Condition:
    name = _call_name(node)
    if name == "exists":
        return Exists(_field_argument(node, text).path)
    if name == "matches":
        pattern = _string_argument(node, 1, text)
        try:
            re.compile(pattern)
        except re.error as error:
            raise _fail(node, text, f"bad regular expression {pattern!r}: {error}") from None
        return Matches(_field_argument(node, text).path, pattern)
    raise _fail(node, text, _FUNCTIONS)


def _call_name(node: ast.Call) -> str | None:
    return node.func.id if isinstance(node.func, ast.Name) else None


def _field_argument(node: ast.Call, text: str) -> Field:
    wanted = 1 if _call_name(node) == "exists" else 2
    if len(node.args) != wanted or node.keywords:
        raise _fail(node, text, f"{_call_name(node)}() takes {wanted} argument(s)")
    if not isinstance(node.args[0], ast.Name | ast.Attribute):
        raise _fail(node, text, "the first argument must be a field path")
    return _field(node.args[0], text)


def _string_argument(node: ast.Call, index: int, text: str) -> str:
    if len(node.args) <= index:
        raise _fail(node, text, f"{_call_name(node)}() needs {index + 1} argument(s)")
    argument = node.args[index]
    if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
        raise _fail(argument, text, "expected a quoted string")
    return argument.value


def _constant_condition(node: ast.Constant | ast.Name, text: str) -> Condition:
    value = node.value if isinstance(node, ast.Constant) else _CONSTANT_NAMES.get(node.id.lower())
    if value is True:
        return TRUE
    if value is False:
        return FALSE
    raise _fail(node, text, "a condition must compare something, e.g. data.flag == true")


_BUILDERS: dict[type[ast.AST], Callable[[Any, str], Condition]] = {
    ast.BoolOp: _bool_op,
    ast.UnaryOp: _unary,
    ast.Compare: _compare,
    ast.Call: _call,
    ast.Constant: _constant_condition,
    ast.Name: _constant_condition,
}
