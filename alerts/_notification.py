"""A notification: one change of one ticket, as it waits for and goes to a receiver."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from monitor import WAITING_FOR_ACK, Ticket, TicketChange

from ._labels import labels_of

_OPENINGS = ("opened", "reopened")


@dataclass(frozen=True)
class Notification:
    """What a receiver is told about one ticket change.

    ``id`` is the same every time the same change of the same ticket is seen (a redelivered
    event, a replayed batch), which is what makes sending idempotent. ``at`` is the event
    time of the change, ``started`` that of the latest (re)opening.
    """

    id: str
    change: str
    at: float
    started: float
    labels: dict[str, str]
    ticket: dict[str, Any]

    def to_record(self) -> bytes:
        """The stored form (compact JSON)."""
        return orjson.dumps(self)

    @classmethod
    def from_record(cls, raw: bytes) -> Notification:
        """The inverse of ``to_record``."""
        return cls(**orjson.loads(raw))


def notified_as(change: TicketChange) -> str | None:
    """The change a ticket change is routed and told as; ``None`` when nobody is told.

    A ticket suppressed by its parent ticket is not told about (its suppression, nor what
    happens to it meanwhile); when its parent resolves and it is still unresolved, its
    ``unsuppressed`` change is told like an opening: people hear of it for the first time.
    """
    if change.change == "unsuppressed":
        return "opened"
    if change.change == "suppressed" or change.ticket.suppressed_by is not None:
        return None
    return change.change


def awaits_people(ticket: Ticket) -> bool:
    """Whether people are still to be told of the ticket: not acknowledged nor resolved,
    and not suppressed by its parent (reminders and escalation steps stop otherwise)."""
    return ticket.status in WAITING_FOR_ACK and ticket.suppressed_by is None


def notify(ticket: Ticket, change: str, *, occasion: str = "") -> Notification:
    """The notification of ``change`` on ``ticket`` (the ticket as that change left it).

    A ticket's occurrences and history only grow, so with the change they name it; a
    reminder adds its ``occasion`` (when it is due).
    """
    identity = f"{ticket.id}\x00{change}\x00{ticket.occurrences}\x00{len(ticket.history)}"
    digest = hashlib.blake2b(f"{identity}\x00{occasion}".encode(), digest_size=10).hexdigest()
    last = ticket.history[-1] if ticket.history else None
    names = (last.action, last.action.removeprefix("sla-")) if last else ()
    at = last.at if last and change in names else ticket.last_seen
    started = next((c.at for c in reversed(ticket.history) if c.action in _OPENINGS), at)
    document = ticket.to_json()
    del document["history"]
    return Notification(f"N-{digest}", change, at, started, labels_of(ticket, change), document)
