"""Escalation runs in Redis: a ticket change routed to a chain starts one, which lasts until
the ticket is acknowledged or resolved, or the chain is done.

Keys under the prefix: ``alerts:runs`` (sorted set: run → when it is next due, wall clock) and
``alerts:run:<id>`` (hash: ticket, chain, the change that started it, when it started, failed
deliveries in a row, the breaches that hastened it). Which step went to which receiver is in
the outbox's ``alerts:done``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis

from monitor import StoreError

from ._notification import Notification
from ._oncall import DueStep
from ._redis import due_members, read_fields, store_error

_WHAT = "escalation runs"


def _digest(*parts: object) -> str:
    text = "\x00".join(map(str, parts))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


@dataclass(frozen=True)
class Run:
    """Chain ``chain`` running for one (re)opening of ``ticket``: its step 0 fell due at
    ``started`` (wall clock: when the notifier first took a change of that opening)."""

    id: str
    ticket: str
    chain: str
    change: str
    started: float
    failures: int = 0

    @classmethod
    def of(cls, notification: Notification, chain: str, *, now: float) -> Run:
        """The run a notification's change starts: one per chain and (re)opening of the
        ticket, however many of that opening's changes are routed to the chain."""
        ticket = notification.ticket["id"]
        run_id = f"R-{_digest(ticket, chain, notification.started)}"
        return cls(run_id, ticket, chain, notification.change, now)

    def step_id(self, due: DueStep) -> str:
        """What makes a step go once: ticket, chain, opening, round and step index."""
        return f"E-{_digest(self.id, due.round, due.index)}"


class RunStore:
    """The Redis side of escalation runs; Redis failures become ``StoreError``."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._schedule = f"{prefix}alerts:runs"

    def _key(self, run_id: str) -> str:
        return f"{self._prefix}alerts:run:{run_id}"

    def start(self, run: Run) -> None:
        """Start ``run``, due at once; a run already going keeps its start."""
        fields = {"ticket": run.ticket, "chain": run.chain, "change": run.change}
        try:
            with self._client.pipeline() as pipe:
                for name, value in {**fields, "started": str(run.started)}.items():
                    pipe.hsetnx(self._key(run.id), name, value)
                pipe.zadd(self._schedule, {run.id: run.started}, nx=True)
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error

    def due(self, now: float) -> list[str]:
        """The ids of the runs due at ``now``."""
        return due_members(self._client, self._schedule, now, _WHAT)

    def run(self, run_id: str) -> Run | None:
        """A run's stored state, if it is still going."""
        fields = read_fields(self._client, self._key(run_id), _WHAT)
        if not fields:
            return None
        return Run(
            id=run_id,
            ticket=fields["ticket"],
            chain=fields["chain"],
            change=fields["change"],
            started=float(fields["started"]),
            failures=int(fields.get("failures", 0)),
        )

    def hasten(self, run: Run, cause: str, *, started: float, now: float) -> bool:
        """Move the run's start back to ``started`` and make it due at ``now``, once per
        ``cause`` (a breach's notification id); whether this call did it."""
        try:
            if not self._client.hsetnx(self._key(run.id), f"hastened:{cause}", now):
                return False
            with self._client.pipeline() as pipe:
                pipe.hset(self._key(run.id), "started", str(started))
                pipe.zadd(self._schedule, {run.id: now})
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error
        return True

    def wake_at(self, run: Run, at: float, *, failed: bool = False) -> None:
        """Make the run due next at ``at``, counting a failed delivery or clearing the count."""
        try:
            with self._client.pipeline() as pipe:
                pipe.hset(self._key(run.id), "failures", run.failures + 1 if failed else 0)
                pipe.zadd(self._schedule, {run.id: at})
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error

    def forget(self, run_id: str) -> None:
        """End a run: its ticket was acknowledged or resolved, or its chain is done."""
        try:
            with self._client.pipeline() as pipe:
                pipe.zrem(self._schedule, run_id)
                pipe.delete(self._key(run_id))
                pipe.execute()
        except redis.RedisError as error:
            raise _store_error(error) from error


def _store_error(error: redis.RedisError) -> StoreError:
    return store_error(error, _WHAT)
