"""Labels of a ticket change, and glob matchers over them (routes and silences share these)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Literal, TypeVar, get_args

from monitor import Ticket
from rules import SEVERITIES

Label = Literal["severity", "team", "rule", "source", "ticket", "change"]
LABELS: tuple[Label, ...] = ("severity", "team", "rule", "source", "ticket", "change")
ChangeKind = Literal[
    "opened", "updated", "reopened", "resolved", "escalated", "sla-warning", "breached"
]
Name = TypeVar("Name", bound=str)
_CLOSED = {"severity": tuple(SEVERITIES), "change": get_args(ChangeKind)}  # labels' values


def labels_of(ticket: Ticket, change: str) -> dict[str, str]:
    """What routes, groups and silences can look at for one change of one ticket."""
    return {
        "severity": ticket.severity,
        "team": ticket.team,
        "rule": ticket.rule,
        "source": ticket.source,
        "ticket": ticket.id,
        "change": change,
    }


def matches(matchers: Mapping[Name, Sequence[str]], labels: Mapping[str, str]) -> bool:
    """Whether every matcher holds: the label matches one of its globs (``stock.*``)."""
    return all(
        any(fnmatchcase(labels.get(name, ""), glob) for glob in globs)
        for name, globs in matchers.items()
    )


def check_matchers(matchers: Mapping[Name, Sequence[str]]) -> None:
    """``ValueError`` for a glob on severity or change that matches no value those labels
    take (``P7``, ``PO``, ``opend``): such a matcher would never hold, without a word."""
    for name, globs in matchers.items():
        known = _CLOSED.get(name, ())
        for glob in globs if known else ():
            if not any(fnmatchcase(value, glob) for value in known):
                raise ValueError(f"{name} {glob!r} matches none of {', '.join(known)}")
