"""Keyed state: what the engine remembers between events, behind one small interface.

The engine reads and writes plain JSON-able values by key and keeps event-time timers.
``MemoryState`` is the working copy every runner uses; ``RedisStateStore`` persists it for
the replay, so tomorrow's file continues today's state and its pending timers (the faust
worker keeps the same interface in its Tables).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import redis

from ._errors import StoreError


@dataclass(frozen=True)
class Timer:
    """A pending event-time timer."""

    id: str
    due: float
    payload: dict[str, Any]


_ABSENT = object()  # a key that had no value


class StateStore(Protocol):
    """Keyed state and event-time timers, as the engine needs them."""

    watermark: float

    def get(self, key: str) -> Any: ...

    def put(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...

    def schedule(self, timer: Timer) -> None: ...

    def cancel(self, timer_id: str) -> None: ...

    def savepoint(self) -> None: ...

    def rollback(self) -> None: ...

    def pop_due(self, before: float) -> list[Timer]: ...


class MemoryState:
    """In-memory keyed state; remembers which keys changed so they can be persisted, and
    what they were at the last savepoint so a failed step can be undone."""

    def __init__(self, values: dict[str, Any] | None = None, timers: Iterable[Timer] = ()) -> None:
        self.watermark = float("-inf")
        self._values: dict[str, Any] = dict(values or {})
        self._timers: dict[str, Timer] = {}
        self._heap: list[tuple[float, str]] = []
        self.dirty: set[str] = set()
        self.dirty_timers: set[str] = set()
        self._values_before: dict[str, Any] = {}  # key → value at the savepoint (or _ABSENT)
        self._timers_before: dict[str, Timer | None] = {}
        self._watermark_before = self.watermark
        for timer in timers:
            self.schedule(timer)
        self.mark_persisted()

    def get(self, key: str) -> Any:
        return self._values.get(key)

    def put(self, key: str, value: Any) -> None:
        self._values_before.setdefault(key, self._values.get(key, _ABSENT))
        self._values[key] = value
        self.dirty.add(key)

    def delete(self, key: str) -> None:
        if key in self._values:
            self._values_before.setdefault(key, self._values[key])
            if self._values.pop(key) is not None:
                self.dirty.add(key)

    def schedule(self, timer: Timer) -> None:
        self._timers_before.setdefault(timer.id, self._timers.get(timer.id))
        self._timers[timer.id] = timer
        heapq.heappush(self._heap, (timer.due, timer.id))
        self.dirty_timers.add(timer.id)

    def cancel(self, timer_id: str) -> None:
        if timer_id in self._timers:
            self._timers_before.setdefault(timer_id, self._timers[timer_id])
            del self._timers[timer_id]
            self.dirty_timers.add(timer_id)

    def pop_due(self, before: float) -> list[Timer]:
        due: list[Timer] = []
        while self._heap and self._heap[0][0] < before:
            when, timer_id = heapq.heappop(self._heap)
            timer = self._timers.get(timer_id)
            if timer is not None and timer.due == when:
                self._timers_before.setdefault(timer_id, timer)
                del self._timers[timer_id]
                self.dirty_timers.add(timer_id)
                due.append(timer)
        return due

    def savepoint(self) -> None:
        """What ``rollback`` returns to: the state as it is now."""
        self._values_before.clear()
        self._timers_before.clear()
        self._watermark_before = self.watermark

    def rollback(self) -> None:
        """Undo every change since the last savepoint (or since it was persisted)."""
        for key, value in self._values_before.items():
            if value is _ABSENT:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        for timer_id, timer in self._timers_before.items():
            if timer is None:
                self._timers.pop(timer_id, None)
            else:
                self._timers[timer_id] = timer
                heapq.heappush(self._heap, (timer.due, timer_id))
        self.watermark = self._watermark_before
        self.savepoint()

    def mark_persisted(self) -> None:
        """Forget the change marks once the changes are safely stored (a savepoint too)."""
        self.dirty.clear()
        self.dirty_timers.clear()
        self.savepoint()

    def timer(self, timer_id: str) -> Timer | None:
        """The pending timer with this id, if any."""
        return self._timers.get(timer_id)

    @property
    def pending_timers(self) -> int:
        """How many timers are pending."""
        return len(self._timers)


class RedisStateStore:
    """Persists a ``MemoryState`` in Redis under one prefix: values, timers, watermark."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._values_key = f"{prefix}state:values"
        self._timers_key = f"{prefix}state:timers"
        self._watermark_key = f"{prefix}state:watermark"

    def load(self) -> MemoryState:
        """The persisted state (empty on first use)."""
        try:
            values = self._client.hgetall(self._values_key)
            timers = self._client.hgetall(self._timers_key)
            watermark = self._client.get(self._watermark_key)
        except redis.RedisError as error:
            raise StoreError(f"cannot read the keyed state from Redis: {error}") from error
        state = MemoryState(
            {key.decode(): orjson.loads(raw) for key, raw in values.items()},
            [_timer(key.decode(), raw) for key, raw in timers.items()],
        )
        if watermark is not None:
            state.watermark = float(watermark)
        return state

    def save(self, state: MemoryState, pipe: redis.client.Pipeline) -> None:
        """Queue the changed keys and timers on ``pipe``; the caller executes it, then calls
        ``state.mark_persisted()``."""
        values = {key: state.get(key) for key in state.dirty}
        _write_hash(
            pipe, self._values_key, {k: orjson.dumps(v) for k, v in values.items() if v is not None}
        )
        _delete_fields(pipe, self._values_key, [k for k, v in values.items() if v is None])
        timers = {timer_id: state.timer(timer_id) for timer_id in state.dirty_timers}
        _write_hash(
            pipe,
            self._timers_key,
            {i: orjson.dumps([t.due, t.payload]) for i, t in timers.items() if t is not None},
        )
        _delete_fields(pipe, self._timers_key, [i for i, t in timers.items() if t is None])
        if state.watermark != float("-inf"):
            pipe.set(self._watermark_key, repr(state.watermark))


def _write_hash(pipe: redis.client.Pipeline, key: str, fields: dict[str, bytes]) -> None:
    if fields:
        # dict is invariant: the stub wants a wider value type than bytes, which Redis takes
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]


def _delete_fields(pipe: redis.client.Pipeline, key: str, fields: list[str]) -> None:
    if fields:
        pipe.hdel(key, *fields)


def _timer(timer_id: str, raw: bytes) -> Timer:
    due, payload = orjson.loads(raw)
    return Timer(timer_id, float(due), payload)
