"""The replay's checkpoint in Redis: seen event ids and the keyed state, written together."""

from __future__ import annotations

from collections.abc import Sequence

import redis

from ._errors import StoreError
from ._state import MemoryState, RedisStateStore


class RedisCheckpoint:
    """Seen-event digests in a Redis set; the keyed state saved in the same transaction."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._seen_key = f"{prefix}seen"
        self._store = RedisStateStore(client, prefix)
        self.state: MemoryState = self._store.load()

    def unseen(self, digests: Sequence[str]) -> list[bool]:
        try:
            return [not seen for seen in self._client.smismember(self._seen_key, list(digests))]
        except redis.RedisError as error:
            raise StoreError(f"cannot read seen events from Redis: {error}") from error

    def commit(self, digests: Sequence[str]) -> None:
        try:
            with self._client.pipeline(transaction=True) as pipe:
                self._store.save(self.state, pipe)
                if digests:
                    pipe.sadd(self._seen_key, *digests)
                pipe.execute()
        except redis.RedisError as error:
            raise StoreError(f"cannot save the keyed state to Redis: {error}") from error
        self.state.mark_persisted()
