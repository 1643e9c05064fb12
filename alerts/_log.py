"""The notification log in Redis: every delivery attempt, silencing and refusal, newest last."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import orjson
import redis

from monitor import StoreError, iso

Result = Literal["sent", "failed", "silenced"]
NotificationKind = Literal["ticket", "report", "escalation"]


@dataclass(frozen=True)
class LogEntry:
    """One attempt to tell a receiver about one ticket change or one patrol report (``at``:
    wall clock).

    For a ticket change, ``notification`` is its id and ``change`` the change; for a report,
    ``notification`` is the report's id, ``ticket`` is empty and ``change`` is the report's
    kind (daily, weekly); for an escalation step, ``notification`` is the step's id,
    ``change`` the change that started the chain and ``step`` says which step of which chain
    and who it reached (``p0 step 2/3 round 1/3: anna``).
    """

    at: float
    receiver: str
    notification: str
    ticket: str
    change: str
    result: Result
    attempt: int = 0
    error: str = ""
    kind: NotificationKind = "ticket"
    step: str = ""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping, the time as ISO 8601 UTC."""
        return {**asdict(self), "at": iso(self.at)}


class NotificationLog:
    """A capped Redis list of ``LogEntry`` (the oldest go first past ``keep`` entries);
    ``observe`` hears every entry written (the metrics count them)."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        keep: int = 100_000,
        observe: Callable[[Sequence[LogEntry]], None] | None = None,
    ) -> None:
        self._client = client
        self._key = f"{prefix}alerts:log"
        self._keep = keep
        self._observe = observe

    def write(self, entries: Sequence[LogEntry]) -> None:
        """Append entries."""
        if not entries:
            return
        try:
            with self._client.pipeline() as pipe:
                pipe.rpush(self._key, *(orjson.dumps(entry) for entry in entries))
                pipe.ltrim(self._key, -self._keep, -1)
                pipe.execute()
        except redis.RedisError as error:
            raise StoreError(f"cannot write the notification log to Redis: {error}") from error
        if self._observe is not None:
            self._observe(entries)

    def read(self) -> list[LogEntry]:
        """Every entry kept, newest first."""
        try:
            raw = self._client.lrange(self._key, 0, -1)
        except redis.RedisError as error:
            raise StoreError(f"cannot read the notification log from Redis: {error}") from error
        return [LogEntry(**orjson.loads(item)) for item in reversed(raw)]
