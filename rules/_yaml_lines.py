"""YAML files read with their line numbers, so a refusal can name ``file:line``: what the
rule, routing and on-call files share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from ruamel.yaml import YAML, CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError


class Refusal(Protocol):
    """An error class that takes a message, the file and (when known) the line."""

    def __call__(self, message: str, *, file: str, line: int | None = None) -> Exception: ...


def yaml_mapping(text: str, file: str, refuse: Refusal, expected: str) -> CommentedMap:
    """The YAML mapping in ``text``; ``refuse(...)`` at the line of a syntax error, or at
    line 1 saying ``expected`` when the document is not a mapping."""
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise refuse(f"not valid YAML: {error.problem or error}", file=file, line=line) from None
    except YAMLError as error:  # e.g. a control character the reader refuses
        raise refuse(f"not valid YAML: {error}", file=file) from None
    if not isinstance(document, CommentedMap):
        raise refuse(expected, file=file, line=1)
    return document


def yaml_plain(node: Any) -> Any:
    """The node as plain dicts and lists (for validation)."""
    if isinstance(node, CommentedMap):
        return {str(key): yaml_plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [yaml_plain(item) for item in node]
    return node


def yaml_line(document: Any, location: Iterable[Any]) -> int:
    """The 1-based line of the deepest node along ``location`` (a validation error's)."""
    line, node = 1, document
    for part in location:
        if isinstance(node, CommentedMap) and part in node:
            line, node = node.lc.key(part)[0] + 1, node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, node = node.lc.item(part)[0] + 1, node[part]
        else:
            break
    return line
