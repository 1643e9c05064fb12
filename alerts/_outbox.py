"""Notifications waiting for their receiver, by group, in Redis — and what was done already.

Keys under the prefix: ``alerts:groups`` (sorted set: group → when it is next due),
``alerts:group:<id>`` (hash: the group's receiver, intervals, last send, failures, tickets),
``alerts:pending:<id>`` (hash: notification id → notification), ``alerts:done`` (set of
``receiver\\0notification id`` sent or silenced, ``receiver\\0report:<report id>`` and
``receiver\\0step:<step id>`` sent: what makes sending idempotent) and ``alerts:lock:<id>``
(one sender per group, escalation run, or receiver and report, at a time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass

import orjson
import redis
from redis.exceptions import LockError
from redis.lock import Lock

from monitor import StoreError

from ._notification import Notification
from ._redis import due_members, read_fields, store_error

_WHAT = "alert notifications"


@dataclass(frozen=True)
class Group:
    """Notifications for one receiver that share their ``group_by`` labels (``key``)."""

    id: str
    receiver: str
    key: str
    group_interval: float
    repeat_interval: float
    last_sent: float = 0.0
    failures: int = 0
    retry_at: float = 0.0
    tickets: tuple[str, ...] = ()

    @classmethod
    def named(
        cls, route: int, receiver: str, key: str, *, group_interval: float, repeat_interval: float
    ) -> Group:
        """The group of route number ``route`` for this receiver and key."""
        digest = hashlib.blake2b(f"{route}\x00{receiver}\x00{key}".encode(), digest_size=8)
        return cls(digest.hexdigest(), receiver, key, group_interval, repeat_interval)

    def next_send(self, now: float) -> float:
        """When a notification that arrives at ``now`` may go: one message per interval, and
        not before a failed receiver's retry time."""
        return max(now, self.last_sent + self.group_interval, self.retry_at)


class Outbox:
    """The Redis side of delivery; Redis failures become ``StoreError``."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._schedule = f"{prefix}alerts:groups"
        self._done = f"{prefix}alerts:done"

    def _group_key(self, group_id: str) -> str:
        return f"{self._prefix}alerts:group:{group_id}"

    def _pending_key(self, group_id: str) -> str:
        return f"{self._prefix}alerts:pending:{group_id}"

    def put(self, group: Group, notifications: Sequence[Notification], now: float) -> None:
        """Queue notifications for ``group`` (those done or queued before are left out) and
        make the group due when it may next send."""
        try:
            fresh = self.not_done(group.receiver, notifications)
            if not fresh:
                return
            stored = self.group(group.id) or group
            with self._client.pipeline() as pipe:
                pipe.hset(
                    self._group_key(group.id),
                    mapping={
                        "receiver": group.receiver,
                        "key": group.key,
                        "group_interval": group.group_interval,
                        "repeat_interval": group.repeat_interval,
                    },
                )
                for notification in fresh:
                    pipe.hsetnx(
                        self._pending_key(group.id), notification.id, notification.to_record()
                    )
                pipe.zadd(self._schedule, {group.id: stored.next_send(now)}, lt=True)
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error

    def not_done(self, receiver: str, notifications: Sequence[Notification]) -> list[Notification]:
        """Those of ``notifications`` not yet sent to (or silenced for) ``receiver``."""
        if not notifications:
            return []
        marks = [f"{receiver}\x00{n.id}" for n in notifications]
        done = self._client.smismember(self._done, marks)
        return [n for n, seen in zip(notifications, done, strict=True) if not seen]

    def unsent(self, receivers: Sequence[str], item: str) -> list[str]:
        """Those of ``receivers`` that ``item`` (``report:<id>``, ``step:<id>``) was not sent to."""
        if not receivers:
            return []
        marks = [f"{receiver}\x00{item}" for receiver in receivers]
        try:
            done = self._client.smismember(self._done, marks)
        except redis.RedisError as error:
            raise _store_error(error) from error
        return [name for name, seen in zip(receivers, done, strict=True) if not seen]

    def mark_done(self, receiver: str, item: str) -> None:
        """Mark ``item`` (``report:<id>``, ``step:<id>``) done for ``receiver``: sent, or
        (a step) silenced or given up."""
        try:
            self._client.sadd(self._done, f"{receiver}\x00{item}")
        except redis.RedisError as error:
            raise _store_error(error) from error

    def due(self, now: float) -> list[str]:
        """The ids of the groups due at ``now``."""
        return due_members(self._client, self._schedule, now, _WHAT)

    def lock(self, name: str, *, seconds: float) -> Lock:
        """A lock on one group, escalation run or report delivery, expiring after ``seconds``
        should its holder die."""
        return self._client.lock(f"{self._prefix}alerts:lock:{name}", timeout=seconds)

    def each_locked(self, names: Iterable[str], *, seconds: float) -> Iterator[str]:
        """Each of ``names`` whose lock this process gets, held while the caller works on it;
        one another process holds is left to it."""
        for name in names:
            lock = self.lock(name, seconds=seconds)
            if not lock.acquire(blocking=False):
                continue
            try:
                yield name
            finally:
                with suppress(LockError):  # it expired meanwhile: nothing left to release
                    lock.release()

    def group(self, group_id: str) -> Group | None:
        """The stored state of a group, if it has any."""
        fields = read_fields(self._client, self._group_key(group_id), _WHAT)
        if not fields:
            return None
        return Group(
            id=group_id,
            receiver=fields["receiver"],
            key=fields["key"],
            group_interval=float(fields["group_interval"]),
            repeat_interval=float(fields["repeat_interval"]),
            last_sent=float(fields.get("last_sent", 0)),
            failures=int(fields.get("failures", 0)),
            retry_at=float(fields.get("retry_at", 0)),
            tickets=tuple(orjson.loads(fields.get("tickets", "[]"))),
        )

    def pending(self, group: Group) -> list[Notification]:
        """The group's queued notifications not done yet, oldest change first."""
        try:
            raw = self._client.hvals(self._pending_key(group.id))
            queued = [Notification.from_record(item) for item in raw]
            fresh = self.not_done(group.receiver, queued)
        except redis.RedisError as error:
            raise _store_error(error) from error
        return sorted(fresh, key=lambda n: (n.at, n.id))

    def done(
        self, group: Group, notifications: Sequence[Notification], *, sent_at: float | None
    ) -> None:
        """Mark notifications done (sent at ``sent_at``, or silenced when it is ``None``) and
        take them off the queue; after a send the group next wakes for its repeat."""
        marks = [f"{group.receiver}\x00{n.id}" for n in notifications]
        try:
            with self._client.pipeline() as pipe:
                if marks:
                    pipe.sadd(self._done, *marks)
                    pipe.hdel(self._pending_key(group.id), *(n.id for n in notifications))
                if sent_at is not None:
                    tickets = dict.fromkeys(
                        [*group.tickets, *(n.ticket["id"] for n in notifications)]
                    )
                    pipe.hset(
                        self._group_key(group.id),
                        mapping={
                            "last_sent": sent_at,
                            "failures": 0,
                            "retry_at": 0,
                            "tickets": orjson.dumps(list(tickets)),
                        },
                    )
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error

    def failed(self, group: Group, *, retry_at: float) -> None:
        """The receiver did not take the group's message: keep it, try again at ``retry_at``."""
        try:
            with self._client.pipeline() as pipe:
                pipe.hset(
                    self._group_key(group.id),
                    mapping={"failures": group.failures + 1, "retry_at": retry_at},
                )
                pipe.zadd(self._schedule, {group.id: retry_at})
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error

    def wake_at(self, group: Group, at: float) -> None:
        """Make the group due next at ``at``."""
        try:
            self._client.zadd(self._schedule, {group.id: at})
        except redis.RedisError as error:
            raise _store_error(error) from error

    def keep_tickets(self, group: Group, tickets: Sequence[str]) -> None:
        """Remember only these tickets for the group's reminders."""
        try:
            self._client.hset(self._group_key(group.id), "tickets", orjson.dumps(list(tickets)))
        except redis.RedisError as error:
            raise _store_error(error) from error

    def forget(self, group_id: str) -> None:
        """Drop a group with nothing queued and nothing to remind of."""
        try:
            with self._client.pipeline() as pipe:
                pipe.zrem(self._schedule, group_id)
                pipe.delete(self._group_key(group_id), self._pending_key(group_id))
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error


def _store_error(error: redis.RedisError) -> StoreError:
    return store_error(error, _WHAT)
