"""Checks of ``explained_by`` across every rule file: the parent rule exists, its key has as
many parts as the fields that give it, and no rule is (through others) its own parent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from ._errors import RuleError
from ._model import Rule


def check_parents(rules: Sequence[Rule]) -> None:
    """``RuleError`` at the ``explained_by`` line of the first rule that breaks a check."""
    by_id = {rule.id: rule for rule in rules}
    for rule in rules:
        if rule.explained_by is None:
            continue
        parent = by_id.get(rule.explained_by.rule)
        if parent is None:
            _fail(rule, f"explained_by: no rule {rule.explained_by.rule!r} in the rule files")
        elif len(parent.key) != len(rule.explained_by.key):
            _fail(
                rule,
                f"explained_by: rule {parent.id!r} has a key of {len(parent.key)} field(s); "
                f"give as many, not {len(rule.explained_by.key)}",
            )
    for rule in rules:
        _check_chain(rule, by_id)


def _check_chain(rule: Rule, by_id: dict[str, Rule]) -> None:
    chain = [rule.id]
    current = rule
    while current.explained_by is not None:
        current = by_id[current.explained_by.rule]
        if current.id in chain:
            loop = " → ".join([*chain[chain.index(current.id) :], current.id])
            _fail(rule, f"explained_by makes a cycle: {loop}")
        chain.append(current.id)


def _fail(rule: Rule, message: str) -> NoReturn:
    assert rule.explained_by is not None
    raise RuleError(message, file=rule.file, line=rule.explained_by.line)
