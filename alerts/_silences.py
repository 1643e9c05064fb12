"""Silences (maintenance windows) in Redis: label matchers, a start, an end, who and why."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import orjson
import redis

from monitor import StoreError, iso

from ._errors import AlertsError
from ._labels import LABELS, check_matchers, matches

State = Literal["pending", "active", "expired"]


@dataclass(frozen=True)
class Silence:
    """Ticket changes whose labels match every matcher are not sent from ``starts`` to ``ends``."""

    id: str
    matchers: dict[str, list[str]]
    starts: float
    ends: float
    author: str
    comment: str

    def state(self, now: float) -> State:
        """Whether it is yet to start, in force, or over."""
        return "pending" if now < self.starts else "active" if now < self.ends else "expired"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping, times as ISO 8601 UTC."""
        return {**asdict(self), "starts": iso(self.starts), "ends": iso(self.ends)}


def parse_matchers(texts: Iterable[str]) -> dict[str, list[str]]:
    """``name=glob`` texts as matchers; a name given twice matches either glob."""
    found: dict[str, list[str]] = {}
    for text in texts:
        name, sep, glob = text.partition("=")
        if not sep or not glob or name not in LABELS:
            raise AlertsError(f"{text!r}: a matcher is NAME=GLOB, NAME one of {', '.join(LABELS)}")
        found.setdefault(name, []).append(glob)
    if not found:
        raise AlertsError("a silence needs at least one matcher (--match rule=stock.*)")
    return found


class SilenceStore:
    """Silences in one Redis hash, by id."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._key = f"{prefix}alerts:silences"

    def add(
        self,
        matchers: dict[str, list[str]],
        *,
        starts: float,
        ends: float,
        author: str,
        comment: str,
    ) -> Silence:
        """Store a new silence."""
        if ends <= starts:
            raise AlertsError("a silence ends after it starts")
        if not author.strip() or not comment.strip():
            raise AlertsError("a silence needs an author and a comment")
        try:
            check_matchers(matchers)
        except ValueError as error:
            raise AlertsError(f"a silence that would mute nothing: {error}") from None
        silence = Silence(f"S-{uuid.uuid4().hex[:12]}", matchers, starts, ends, author, comment)
        self._put(silence)
        return silence

    def all(self) -> list[Silence]:
        """Every silence, by start time."""
        try:
            raw = self._client.hvals(self._key)
        except redis.RedisError as error:
            raise StoreError(f"cannot read silences from Redis: {error}") from error
        return sorted((Silence(**orjson.loads(item)) for item in raw), key=lambda s: s.starts)

    def expire(self, text: str, now: float) -> Silence:
        """End the silence whose id is ``text`` or starts with it, now."""
        found = [s for s in self.all() if s.id.startswith(text)]
        if len(found) != 1:
            raise AlertsError(f"{text}: {len(found) or 'no'} silence(s) have that id")
        silence = found[0]
        ended = Silence(**{**asdict(silence), "ends": min(silence.ends, now)})
        self._put(ended)
        return ended

    def active(self, now: float) -> list[Silence]:
        """The silences in force at ``now``."""
        return [silence for silence in self.all() if silence.state(now) == "active"]

    def _put(self, silence: Silence) -> None:
        try:
            self._client.hset(self._key, silence.id, orjson.dumps(silence))
        except redis.RedisError as error:
            raise StoreError(f"cannot write silences to Redis: {error}") from error


def muting(silences: Sequence[Silence], labels: Mapping[str, str]) -> Silence | None:
    """The first of ``silences`` whose matchers all hold for ``labels``."""
    return next((s for s in silences if matches(s.matchers, labels)), None)
