"""What the router sends to the keyed topic: bundles of events for the partition that owns
their rule keys, and watermarks that say how far in event time each source partition has
been read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Routed:
    """An event for one keyed partition: the rules to apply there, and whether this is the
    copy that observers count (its home)."""

    raw: bytes
    digest: str
    time: float
    rules: frozenset[str]
    home: bool
    origin: str


@dataclass(frozen=True)
class Bundle:
    """The events of one batch of source messages that go to one keyed partition (one
    message instead of many: each message costs the broker and faust far more than an
    event costs the engine)."""

    events: tuple[Routed, ...]


@dataclass(frozen=True)
class Mark:
    """Source partition ``source`` has been read up to event time ``watermark`` (``None``:
    nothing yet); ``idle`` when it is caught up and quiet, so it holds no one back."""

    source: str
    watermark: float | None
    idle: bool


Message = Bundle | Mark


def encode(message: Message) -> bytes:
    """The message as JSON bytes."""
    if isinstance(message, Mark):
        return orjson.dumps({"mark": message.source, "at": message.watermark, "idle": message.idle})
    return orjson.dumps({"events": [_event_fields(event) for event in message.events]})


def decode(raw: bytes) -> Message:
    """A message from its JSON bytes; ``ValueError`` if it is not one of ours."""
    try:
        document = orjson.loads(raw)
        if "mark" in document:
            at = document["at"]
            return Mark(str(document["mark"]), None if at is None else float(at), document["idle"])
        return Bundle(tuple(_event(fields) for fields in document["events"]))
    except (KeyError, TypeError, ValueError) as error:  # orjson's errors are ValueErrors
        raise ValueError(f"not a keyed-topic message: {type(error).__name__}: {error}") from None


def _event_fields(event: Routed) -> list[object]:
    rules = sorted(event.rules)
    return [event.raw.decode(), event.digest, event.time, rules, event.home, event.origin]


def _event(fields: list[Any]) -> Routed:
    raw, digest, at, rules, home, origin = fields
    return Routed(raw.encode(), str(digest), float(at), frozenset(rules), bool(home), str(origin))
