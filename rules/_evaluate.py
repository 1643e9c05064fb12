"""Conditions evaluated in Python on an event mapping (the ``raise`` clauses of a rule).

A rule's ``when`` is compiled onto durable-rules; its ``raise`` conditions only choose the
severity of an occurrence, so they are read here, on the one fact that fired, with the
language's meaning: a comparison that reads a missing field is false, and so is one between
unlike values (a number and a text, a list); ``!=`` between unlike values is true.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from ._expr import And, Arith, Compare, Condition, Const, Exists, Field, Matches, Or

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def holds(condition: Condition, fact: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for the event mapping ``fact``."""
    if isinstance(condition, And):
        return all(holds(item, fact) for item in condition.items)
    if isinstance(condition, Or):
        return any(holds(item, fact) for item in condition.items)
    if isinstance(condition, Exists):
        return (Field(condition.path).value_at(fact) is not None) == condition.present
    if isinstance(condition, Matches):
        subject = regex_subject(Field(condition.path).value_at(fact))
        found = subject is not None and _regex(condition.pattern).fullmatch(subject) is not None
        return found != condition.negated
    return _compare(condition, fact)


def regex_subject(value: Any) -> str | None:
    """The text ``matches()`` reads from a value: a string, or a number as written."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 5.0 reads as "5", as it was most likely written
    if _is_number(value):
        return str(value)
    return value if isinstance(value, str) else None


def _compare(condition: Compare, fact: Mapping[str, Any]) -> bool:
    left, right = _value(condition.left, fact), _value(condition.right, fact)
    if left is None or right is None:
        return False
    if _kind(left) != _kind(right):
        return condition.op == "!="
    return _COMPARE[condition.op](left, right)


def _value(operand: Field | Const | Arith, fact: Mapping[str, Any]) -> Any:
    """An operand's value; ``None`` when it is missing or cannot be computed."""
    if isinstance(operand, Const):
        return operand.value
    if isinstance(operand, Field):
        value = operand.value_at(fact)
        return None if isinstance(value, Mapping | list) else value
    left, right = _value(operand.left, fact), _value(operand.right, fact)
    if not (_is_number(left) and _is_number(right)):
        return None
    if operand.op == "/" and right == 0:
        return None
    return _ARITH[operand.op](left, right)


def _kind(value: Any) -> type:
    return float if _is_number(value) else type(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
