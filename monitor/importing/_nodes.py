"""Reading ruamel.yaml nodes with their positions: every refusal names ``file:line``."""

from __future__ import annotations

import collections.abc as abc
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import CommentedMap, CommentedSeq

from .._errors import ImportMappingError

Scalar = str | int | float | bool


@dataclass(frozen=True)
class At:
    """Where a node is: file, 1-based line, key path."""

    file: str
    line: int
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}" if self.path else f"{self.file}:{self.line}"

    def error(self, message: str) -> ImportMappingError:
        """An ``ImportMappingError`` located here."""
        return ImportMappingError(f"{self}: {message}")

    def key(self, node: CommentedMap, key: str) -> At:
        """Where ``key`` of the mapping ``node`` is."""
        path = f"{self.path}.{key}" if self.path else key
        return At(self.file, node.lc.key(key)[0] + 1, path)

    def item(self, node: CommentedSeq, index: int) -> At:
        """Where item ``index`` of the sequence ``node`` is."""
        return At(self.file, node.lc.item(index)[0] + 1, f"{self.path}[{index}]")


def entries(node: Any, at: At) -> list[tuple[str, Any, At]]:
    """The ``(key, value, position)`` entries of a mapping with string keys."""
    if not isinstance(node, CommentedMap):
        raise at.error("expected a mapping")
    for key in node:
        if not isinstance(key, str):
            raise at.error(f"key {key!r} is not a string")
    return [(key, value, at.key(node, key)) for key, value in node.items()]


def table(node: Any, at: At, allowed: abc.Set[str], required: abc.Set[str] = frozenset()) -> Any:
    """``node`` checked to be a mapping with only ``allowed`` keys and every ``required`` one."""
    for key, _, where in entries(node, at):
        if key not in allowed:
            raise where.error(f"unknown key (expected one of {', '.join(sorted(allowed))})")
    missing = sorted(required - node.keys())
    if missing:
        raise at.error(f"missing {', '.join(missing)}")
    return node


def get(node: CommentedMap, key: str, at: At, read: abc.Callable[[Any, At], Any]) -> Any:
    """``read`` applied to ``node[key]`` at its position, or ``None`` when the key is absent."""
    return read(node[key], at.key(node, key)) if key in node else None


def text(node: Any, at: At) -> str:
    """A non-empty string."""
    if not isinstance(node, str) or not node:
        raise at.error("expected a non-empty string")
    return node


def texts(node: Any, at: At) -> tuple[str, ...]:
    """One string or a list of them."""
    if isinstance(node, CommentedSeq):
        return tuple(text(item, at.item(node, index)) for index, item in enumerate(node))
    return (text(node, at),)


def flag(node: Any, at: At) -> bool:
    """A boolean."""
    if not isinstance(node, bool):
        raise at.error("expected true or false")
    return node


def scalar(node: Any, at: At) -> Scalar:
    """A string, number or boolean (not null)."""
    if not isinstance(node, str | int | float):
        raise at.error("expected a string, number or boolean")
    return node
