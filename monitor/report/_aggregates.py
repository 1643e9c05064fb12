"""What the report needs and tickets do not hold, kept in Redis per 15-minute UTC bucket.

Layout, under the runtime's key prefix (one hash per UTC day, so any time zone's day is a
set of whole buckets from at most two or three hashes):

- ``report:tally:YYYY-MM-DD``: field ``slot␟kind␟name␟source␟channel`` → count, where
  ``slot`` is the bucket's index in the UTC day (0–95) and ``kind`` is ``event`` (name: the
  event type), ``finding`` (name: the rule that matched) or ``measure`` (name: a fact read
  from the event's data, such as ``delivered-late``);
- ``report:stock:YYYY-MM-DD``: field ``slot␟warehouse␟sku`` → the newest ``stock.level``
  reading of that bucket, ``[time, on_hand, safety_threshold, amc]``;
- ``report:watermark``: the newest watermark seen, to tell how far the figures are complete.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, cast

import orjson
import redis

from .._errors import StoreError
from ._period import BUCKET

Kind = Literal["event", "finding", "measure"]
_SEP = "\x1f"
# One call per hash and batch rather than a command per field: a batch of events spread
# over many buckets would otherwise cost a round of parsing per event.
_ADD = """
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
"""
# Keeps the newest reading per field whatever order the batches came in.
_NEWEST = """
for i = 1, #ARGV, 3 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if not old or cjson.decode(old)[1] <= tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  end
end
"""


@dataclass(frozen=True)
class Tally:
    """What one count is of: a bucket (``at``: its start), a kind, a name, source, channel."""

    at: float
    kind: Kind
    name: str
    source: str
    channel: str


@dataclass(frozen=True)
class Reading:
    """One stock level of a site (warehouse) and SKU."""

    at: float
    warehouse: str
    sku: str
    on_hand: float
    threshold: float | None
    amc: float | None


def bucket(moment: float) -> float:
    """The start of the 15-minute UTC bucket holding ``moment``."""
    return moment - moment % BUCKET


class Aggregates:
    """Reads and writes the recorded figures under one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}report:"
        self._add = client.register_script(_ADD)
        self._newest = client.register_script(_NEWEST)

    def write(self, tallies: Counter[Tally], readings: Sequence[Reading], watermark: float) -> None:
        """Add the tallies and keep the readings, in one transaction."""
        newest: dict[tuple[str, str], Reading] = {}
        for reading in readings:
            where = (_day(reading.at), _field(reading.at, reading.warehouse, reading.sku))
            kept = newest.get(where)
            if kept is None or kept.at <= reading.at:
                newest[where] = reading
        stock: dict[str, list[str | float | bytes]] = {}
        for (day, name), r in newest.items():
            value = orjson.dumps([r.at, r.on_hand, r.threshold, r.amc])
            stock.setdefault(day, []).extend((name, r.at, value))
        counts: dict[str, list[str | int]] = {}
        for t, count in tallies.items():
            name = _field(t.at, t.kind, t.name, t.source, t.channel)
            counts.setdefault(_day(t.at), []).extend((name, count))
        try:
            with self._client.pipeline(transaction=True) as pipe:
                for day, increments in counts.items():
                    self._add(keys=[self._key("tally", day)], args=increments, client=pipe)
                for day, newer in stock.items():
                    self._newest(keys=[self._key("stock", day)], args=newer, client=pipe)
                if watermark != float("-inf"):
                    pipe.set(f"{self._prefix}watermark", repr(watermark))
                pipe.execute()
        except redis.RedisError as error:
            raise StoreError(f"cannot record report figures in Redis: {error}") from error

    def tallies(self, start: float, end: float) -> Counter[Tally]:
        """The counts of the buckets in ``[start, end)``."""
        found: Counter[Tally] = Counter()
        for at, (kind, name, source, channel), raw in self._scan("tally", start, end):
            found[Tally(at, cast(Kind, kind), name, source, channel)] = int(raw)
        return found

    def readings(self, start: float, end: float) -> list[Reading]:
        """The stock readings kept for the buckets in ``[start, end)``."""
        found = []
        for _, (warehouse, sku), raw in self._scan("stock", start, end):
            at, on_hand, threshold, amc = orjson.loads(raw)
            found.append(Reading(at, warehouse, sku, on_hand, threshold, amc))
        return found

    def watermark(self) -> float | None:
        """The newest watermark recorded, if any."""
        try:
            raw = self._client.get(f"{self._prefix}watermark")
        except redis.RedisError as error:
            raise StoreError(f"cannot read report figures from Redis: {error}") from error
        return float(raw) if raw is not None else None

    def _scan(
        self, family: str, start: float, end: float
    ) -> Iterator[tuple[float, list[str], bytes]]:
        days = list(_days(start, end))
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for day in days:
                    pipe.hgetall(self._key(family, day.isoformat()))
                contents = cast(list[dict[bytes, bytes]], pipe.execute())
        except redis.RedisError as error:
            raise StoreError(f"cannot read report figures from Redis: {error}") from error
        for day, content in zip(days, contents, strict=True):
            midnight = datetime.combine(day, datetime.min.time(), UTC).timestamp()
            for raw_field, raw in content.items():
                slot, *parts = raw_field.decode().split(_SEP)
                at = midnight + int(slot) * BUCKET
                if start <= at < end:
                    yield at, parts, raw

    def _key(self, family: str, day: str) -> str:
        return f"{self._prefix}{family}:{day}"


def _day(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).date().isoformat()


def _field(moment: float, *parts: str) -> str:
    slot = int(moment % 86400 // BUCKET)
    return _SEP.join((str(slot), *(part.replace(_SEP, " ") for part in parts)))


def _days(start: float, end: float) -> Iterator[date]:
    day = datetime.fromtimestamp(start, UTC).date()
    while datetime.combine(day, datetime.min.time(), UTC).timestamp() < end:
        yield day
        day += timedelta(days=1)
