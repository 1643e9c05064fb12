"""Labels of a ticket change, and glob matchers over them (routes and silences share these)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Literal, TypeVar

from monitor import Ticket

Label = Literal["severity", "team", "rule", "source", "ticket", "change"]
LABELS: tuple[Label, ...] = ("severity", "team", "rule", "source", "ticket", "change")
Name = TypeVar("Name", bound=str)


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
