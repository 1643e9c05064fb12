"""Watermark messages: while it publishes, ``riskmon produce`` tells every partition of its
topics how far in event time it has got. A partition that gets no event for a while during a
load then still counts as busy, so the other partitions' time cannot run past events that
are on their way to it.

A watermark message has an empty value and the header ``riskmon-watermark`` (event time in
seconds since the epoch); workers take it as the partition's progress, not as an event.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Protocol

HEADER = "riskmon-watermark"
EVERY = 0.5  # seconds of wall time between a producer's watermarks

Headers = Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None


class Sender(Protocol):
    """What ``Watermarks`` needs of a producer (aiokafka's ``AIOKafkaProducer``)."""

    async def send(
        self, topic: str, value: bytes, *, partition: int, headers: list[tuple[str, bytes]]
    ) -> object: ...

    async def flush(self) -> None: ...


def watermark_of(headers: Headers) -> float | None:
    """The event time a watermark message carries; ``None`` for an event. ``ValueError`` if
    the header is there but not a finite number."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name == HEADER:
            at = float(value.decode("ascii", errors="replace"))
            if not math.isfinite(at):
                raise ValueError(f"{HEADER} is not a finite time: {value!r}")
            return at
    return None


class Watermarks:
    """Sends a producer's watermark to every partition, at most every ``EVERY`` seconds and
    once at the end; each one only after the events before it are on the broker."""

    def __init__(
        self,
        producer: Sender,
        partitions: Collection[tuple[str, int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._producer = producer
        self._partitions = partitions
        self._clock = clock
        self._latest: float | None = None
        self._last_sent = float("-inf")

    async def passed(self, at: float) -> None:
        """An event of time ``at`` was sent; send the watermark if it is time to."""
        self._latest = at if self._latest is None else max(self._latest, at)
        if self._clock() - self._last_sent >= EVERY:
            await self.send()

    async def send(self) -> None:
        """Send the newest event time published to every partition (nothing before the
        first event)."""
        if self._latest is None:
            return
        await self._producer.flush()
        headers = [(HEADER, repr(self._latest).encode())]
        for topic, partition in self._partitions:
            await self._producer.send(topic, b"", partition=partition, headers=headers)
        self._last_sent = self._clock()
