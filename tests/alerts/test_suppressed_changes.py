"""Which ticket changes are told to people: none of a ticket suppressed by its parent;
its unsuppression like an opening."""

from __future__ import annotations

from alerts._notification import notified_as
from monitor import (
    DEFAULT_POLICY,
    Escalation,
    MemoryTicketStore,
    Occurrence,
    Resolution,
    ticket_id,
)

SITE = ("stock.site-outage", "W")


def test_a_suppressed_ticket_is_not_told_until_its_parent_resolves() -> None:
    store = MemoryTicketStore(DEFAULT_POLICY)
    child = Occurrence("c1", "stock.out", "W|S", 10.0, "P1", "inventory", "Out", "wh", "v1", SITE)
    parent = Occurrence("p1", *SITE, 0.0, "P1", "inventory", "Site out", "wh", "v1")
    opened = store.apply([parent, child])
    assert [(c.change, notified_as(c)) for c in opened] == [
        ("opened", "opened"),
        ("suppressed", None),
    ]
    escalated = store.apply([Escalation("t1", "stock.out", "W|S", 20.0, "P0")])
    assert [(c.change, notified_as(c)) for c in escalated] == [("escalated", None)]
    later = store.apply([Resolution("p1#resolve", *SITE, 50.0, "restocked")])
    assert [(c.ticket.id, c.change, notified_as(c)) for c in later] == [
        (ticket_id(*SITE), "resolved", "resolved"),
        (ticket_id("stock.out", "W|S"), "unsuppressed", "opened"),
    ]


def test_any_change_of_a_ticket_while_suppressed_is_not_told() -> None:
    store = MemoryTicketStore(DEFAULT_POLICY)
    parent = Occurrence("p1", *SITE, 0.0, "P1", "inventory", "Site out", "wh", "v1")
    child = Occurrence("c1", "stock.out", "W|S", 10.0, "P1", "inventory", "Out", "wh", "v1", SITE)
    store.apply([parent, child])
    resolved = store.apply([Resolution("c1#resolve", "stock.out", "W|S", 20.0, "restocked")])
    again = Occurrence("c2", "stock.out", "W|S", 30.0, "P1", "inventory", "Out", "wh", "v1", SITE)
    reopened = store.apply([again])
    assert [(c.change, notified_as(c)) for c in resolved + reopened] == [
        ("resolved", "resolved"),  # resolving ends the suppression
        ("reopened", None),  # back under the open parent at once
    ]
