"""``riskmon tickets ack|assign|comment|resolve``: people working tickets."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable

import click

from .._pipeline import Batch
from .._runtime import open_runtime
from .._settings import load_settings
from .._ticket_work import acknowledge, assign, comment, resolve
from .._tickets import Ticket
from ._commands import alert_observers
from ._output import console


def _someone(context: click.Context, parameter: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("name who makes the change (the history records it)")
    return value.strip()


BY = click.option(
    "--by", default=lambda: getpass.getuser(), show_default="your login name",
    callback=_someone, help="Who makes the change (recorded in the ticket's history).",
)  # fmt: skip


def _change(ticket_id: str, change: Callable[[Ticket], Ticket], done: str) -> None:
    """Apply a person's change; the alerts hear of what it did (resolving a parent tells
    of the children it no longer suppresses)."""
    runtime = open_runtime(load_settings())
    store = runtime.tickets
    changes = store.update(store.find(ticket_id), change)
    ticket = changes[0].ticket
    console.print(f"{ticket.id} {done}: {ticket.status}, {ticket.severity}, {ticket.title}")
    told = Batch(changes=changes)
    for observer in alert_observers(runtime):
        observer.observe(told)


@click.command("ack")
@click.argument("ticket_id")
@BY
@click.option("--note", default="", help="A note for the history.")
def ack_ticket(ticket_id: str, by: str, note: str) -> None:
    """Acknowledge a ticket: you have it; its acknowledge SLA stops."""
    _change(ticket_id, lambda t: acknowledge(t, by=by, at=time.time(), note=note), "acknowledged")


@click.command("assign")
@click.argument("ticket_id")
@click.option("--to", "assignee", required=True, help="A person or a team.")
@BY
def assign_ticket(ticket_id: str, assignee: str, by: str) -> None:
    """Assign a ticket to a person or a team."""
    _change(ticket_id, lambda t: assign(t, by=by, at=time.time(), to=assignee), "assigned")


@click.command("comment")
@click.argument("ticket_id")
@click.argument("text")
@BY
def comment_ticket(ticket_id: str, text: str, by: str) -> None:
    """Add a comment to a ticket."""
    _change(ticket_id, lambda t: comment(t, by=by, at=time.time(), text=text), "commented")


@click.command("resolve")
@click.argument("ticket_id")
@click.option("--root-cause", default="", help="Why it happened (required for P0 and P1).")
@click.option("--action", "action_taken", default="", help="What was done (required for P0/P1).")
@BY
def resolve_ticket(ticket_id: str, root_cause: str, action_taken: str, by: str) -> None:
    """Resolve a ticket; if the condition comes back, the ticket reopens."""
    _change(
        ticket_id,
        lambda t: resolve(
            t, by=by, at=time.time(), root_cause=root_cause, action_taken=action_taken
        ),
        "resolved",
    )


TICKET_WORK = (ack_ticket, assign_ticket, comment_ticket, resolve_ticket)
