"""What the alert stores share about Redis: a hash read as text, and the error for a failure."""

from __future__ import annotations

import redis

from monitor import StoreError


def store_error(error: redis.RedisError, what: str) -> StoreError:
    """The ``StoreError`` for failing to read or write ``what`` in Redis."""
    return StoreError(f"cannot read or write {what} in Redis: {error}")


def read_fields(client: redis.Redis, key: str, what: str) -> dict[str, str]:
    """The fields of the hash ``key`` as text (empty if there is none)."""
    try:
        stored = client.hgetall(key)
    except redis.RedisError as error:
        raise store_error(error, what) from error
    return {name.decode(): value.decode() for name, value in stored.items()}


def due_members(client: redis.Redis, key: str, now: float, what: str) -> list[str]:
    """The members of the sorted set ``key`` whose score (a due time) is not after ``now``."""
    try:
        return [raw.decode() for raw in client.zrangebyscore(key, 0, now)]
    except redis.RedisError as error:
        raise store_error(error, what) from error
