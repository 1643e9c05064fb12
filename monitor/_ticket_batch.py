"""One batch of ticket changes, the same for every store: engine actions (each applied once)
or a person's change, then parents and children.

A child ticket is suppressed while it and its parent (the ticket of the aggregate rule that
explains it) are both unresolved: when it occurs while the parent is open, and when the
parent opens or reopens. When the parent resolves, its children are re-evaluated: those
still unresolved are unsuppressed. Children register with their parent (``links``, a set
per parent in the store) so that the parent finds them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ._actions import Action, Occurrence
from ._errors import StoreError
from ._severity import SeverityPolicy
from ._tickets import Change, Ticket, apply, ticket_id, with_change

_OPENINGS = ("opened", "reopened")


@dataclass(frozen=True)
class TicketChange:
    """What one applied action did to a ticket, for summaries and metrics."""

    ticket: Ticket
    # opened | updated | reopened | resolved | escalated | sla-warning | breached
    # | suppressed | unsuppressed
    change: str


class TicketReader(Protocol):
    """What a batch reads from its store (the Redis store watches what it reads)."""

    def tickets(self, ids: Collection[str]) -> Mapping[str, Ticket | None]: ...

    def applied(self, marks: Sequence[str]) -> Sequence[bool | int]: ...

    def children(self, parents: Collection[str]) -> Mapping[str, set[str]]: ...


class TicketBatch:
    """Changes to tickets, kept to be written at once: the ``written`` tickets by id, the
    ``links`` (parent id, child id) to register, the newly applied ``marks`` (ticket id and
    action id), and the ``changes`` in the order they were made.

    Everything is read before the first change, so that each change follows the one before
    in memory: a batch leaves the same tickets, history included, as its actions one by one.
    """

    def __init__(self, reader: TicketReader, policy: SeverityPolicy) -> None:
        self._reader = reader
        self._policy = policy
        self._tickets: dict[str, Ticket | None] = {}
        self._children: dict[str, set[str]] = {}
        self.written: dict[str, Ticket] = {}
        self.links: set[tuple[str, str]] = set()
        self.marks: list[str] = []
        self.changes: list[TicketChange] = []

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        """Apply, in order, each action not applied before."""
        identities = [ticket_id(action.rule, action.key) for action in actions]
        parents = [
            ticket_id(*action.parent)
            for action in actions
            if isinstance(action, Occurrence) and action.parent
        ]
        self._read([*identities, *parents])
        marks = [f"{i}\x00{a.action_id}" for i, a in zip(identities, actions, strict=True)]
        applied = self._reader.applied(marks)
        self._read_children(identities)
        taken: set[str] = set()
        for action, identity, mark, done in zip(actions, identities, marks, applied, strict=True):
            if done or mark in taken:
                continue
            taken.add(mark)
            self.marks.append(mark)
            self._apply(identity, action)
        return self.changes

    def change(self, ticket_id: str, change: Callable[[Ticket], Ticket]) -> list[TicketChange]:
        """Apply a person's change to one ticket; the changes it made, the person's first
        (then what it did to the ticket's children); ``StoreError`` if there is none."""
        self._read([ticket_id])
        before = self._tickets[ticket_id]
        if before is None:
            raise StoreError(f"no ticket {ticket_id}")
        self._read_children([ticket_id])
        after = change(before)
        self._put(before, after, _describe(before, after, occurred=False))
        return self.changes

    def _read(self, ids: Collection[str]) -> None:
        missing = [i for i in dict.fromkeys(ids) if i not in self._tickets]
        if missing:
            self._tickets.update(self._reader.tickets(missing))

    def _read_children(self, parents: Collection[str]) -> None:
        """The registered children of ``parents`` (any ticket may be one), and their tickets
        and parents' tickets."""
        self._children = {p: set(c) for p, c in self._reader.children(set(parents)).items()}
        self._read(set().union(*self._children.values()))
        found = (self._tickets[c] for cs in self._children.values() for c in cs)
        self._read({child.parent for child in found if child and child.parent})

    def _apply(self, identity: str, action: Action) -> None:
        before = self._tickets[identity]
        after = apply(before, action, self._policy)
        if after is None or after == before:
            return
        kind = _describe(before, after, occurred=isinstance(action, Occurrence))
        if isinstance(action, Occurrence):
            if after.parent is not None:
                self.links.add((after.parent, identity))
                self._children.setdefault(after.parent, set()).add(identity)
            after, kind = self._evaluated(after, kind)
        self._put(before, after, kind)

    def _evaluated(self, ticket: Ticket, kind: str) -> tuple[Ticket, str]:
        """An occurrence's ticket against its parent: ``suppressed`` or ``unsuppressed``
        instead of ``opened`` or ``updated`` when that changes (a reopening stays one)."""
        parent = self._tickets.get(ticket.parent) if ticket.parent else None
        settled = suppression(ticket, parent)
        if settled is ticket or kind == "reopened":
            return settled, kind
        return settled, "suppressed" if settled.suppressed_by else "unsuppressed"

    def _put(self, before: Ticket | None, after: Ticket, kind: str) -> None:
        self._tickets[after.id] = after
        self.written[after.id] = after
        self.changes.append(TicketChange(after, kind))
        if _unresolved(before) != _unresolved(after):
            self._settle(after.id)

    def _settle(self, parent_id: str) -> None:
        """Re-evaluate the children of a ticket that opened or resolved."""
        for child_id in sorted(self._children.get(parent_id, ())):
            child = self._tickets.get(child_id)
            if child is None or parent_id not in (child.parent, child.suppressed_by):
                continue
            if child.parent:
                self._read([child.parent])  # read already, unless its rule names another
            settled = suppression(child, self._tickets.get(child.parent or ""))
            if settled is not child:
                kind = "suppressed" if settled.suppressed_by else "unsuppressed"
                self._put(child, settled, kind)


def suppression(child: Ticket, parent: Ticket | None) -> Ticket:
    """``child`` with its suppression re-evaluated against its ``parent`` ticket as it is now
    (a history entry when it changes): suppressed while both are unresolved."""
    if parent is not None and parent.id != child.parent:
        parent = None
    wanted = parent.id if parent and _unresolved(parent) and _unresolved(child) else None
    old = child.suppressed_by
    if wanted == old:
        return child
    if parent is not None and wanted is not None:
        opened = next(c.at for c in reversed(parent.history) if c.action in _OPENINGS)
        detail = f"explained by {parent.id}: {parent.title}"
        change = Change(max(child.last_seen, opened), "engine", "suppressed", detail)
    elif parent is not None and parent.id == old and parent.resolved_at is not None:
        by = next(c.by for c in reversed(parent.history) if c.action == "resolved")
        at = max(child.last_seen, parent.resolved_at)
        change = Change(at, by, "unsuppressed", f"{old} resolved")
    else:
        change = Change(child.last_seen, "engine", "unsuppressed", f"no longer explained by {old}")
    return with_change(child, change, suppressed_by=wanted)


def _unresolved(ticket: Ticket | None) -> bool:
    return ticket is not None and ticket.status != "resolved"


def _describe(before: Ticket | None, after: Ticket, *, occurred: bool) -> str:
    if before is None:
        return "opened"
    if after.history != before.history:
        return after.history[-1].action.replace("sla-breached", "breached")
    return "updated" if occurred else "changed"
