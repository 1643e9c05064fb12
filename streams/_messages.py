"""What the router sends to the keyed topic: events for the partitions that own their rule
keys, and watermarks that say how far in event time each source partition has been read."""

from __future__ import annotations

from dataclasses import dataclass

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
class Mark:
    """Source partition ``source`` has been read up to event time ``watermark`` (``None``:
    nothing yet); ``idle`` when it is caught up and quiet, so it holds no one back."""

    source: str
    watermark: float | None
    idle: bool


Message = Routed | Mark


def encode(message: Message) -> bytes:
    """The message as JSON bytes."""
    if isinstance(message, Mark):
        return orjson.dumps({"mark": message.source, "at": message.watermark, "idle": message.idle})
    return orjson.dumps(
        {
            "event": message.raw.decode(),
            "digest": message.digest,
            "time": message.time,
            "rules": sorted(message.rules),
            "home": message.home,
            "origin": message.origin,
        }
    )


def decode(raw: bytes) -> Message:
    """A message from its JSON bytes (only this program writes the keyed topic)."""
    document = orjson.loads(raw)
    if "mark" in document:
        return Mark(document["mark"], document["at"], document["idle"])
    return Routed(
        document["event"].encode(),
        document["digest"],
        document["time"],
        frozenset(document["rules"]),
        document["home"],
        document["origin"],
    )
