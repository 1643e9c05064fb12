"""What people do to tickets: acknowledge, assign, comment, resolve (pure; no storage).

Each change is appended to the ticket's history with who and when. Resolving a P0 or P1
needs the post-mortem record: the root cause and the action taken.
"""

from __future__ import annotations

from ._errors import RiskMonitorError
from ._tickets import WAITING_FOR_ACK, Change, Ticket, with_change

NEEDS_POST_MORTEM = ("P0", "P1")


class TicketWorkError(RiskMonitorError):
    """A change a person asked for does not apply to the ticket as it is."""


def acknowledge(ticket: Ticket, *, by: str, at: float, note: str = "") -> Ticket:
    """Someone has taken the ticket: the acknowledge SLA stops."""
    if ticket.status not in WAITING_FOR_ACK:
        raise TicketWorkError(
            f"{ticket.id} is {ticket.status}: only open or reopened tickets are acknowledged"
        )
    return with_change(
        ticket, Change(at, by, "acknowledged", note), status="acknowledged", acknowledged_at=at
    )


def assign(ticket: Ticket, *, by: str, at: float, to: str) -> Ticket:
    """Give the ticket to a person or a team."""
    if not to.strip():
        raise TicketWorkError("assign to whom? give a person or a team")
    return with_change(ticket, Change(at, by, "assigned", to), assignee=to)


def comment(ticket: Ticket, *, by: str, at: float, text: str) -> Ticket:
    """Add a comment."""
    if not text.strip():
        raise TicketWorkError("an empty comment says nothing")
    return with_change(ticket, Change(at, by, "commented", text))


def resolve(
    ticket: Ticket, *, by: str, at: float, root_cause: str = "", action_taken: str = ""
) -> Ticket:
    """Close the ticket; P0 and P1 need the root cause and the action taken. A resolved
    ticket is no longer suppressed (its parent has nothing left to hold back)."""
    if ticket.status == "resolved":
        raise TicketWorkError(f"{ticket.id} is already resolved")
    if ticket.severity in NEEDS_POST_MORTEM and not (root_cause.strip() and action_taken.strip()):
        raise TicketWorkError(
            f"{ticket.id} is {ticket.severity}: resolving it needs the root cause and the action "
            "taken (--root-cause, --action)"
        )
    detail = "; ".join(part for part in (root_cause, action_taken) if part)
    return with_change(
        ticket,
        Change(at, by, "resolved", detail),
        status="resolved",
        resolved_at=at,
        acknowledged_at=ticket.acknowledged_at if ticket.acknowledged_at is not None else at,
        root_cause=root_cause or None,
        action_taken=action_taken or None,
        suppressed_by=None,
    )
