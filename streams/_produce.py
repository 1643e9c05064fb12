"""``riskmon produce``: publish a JSON Lines file of events to the topics, keyed by entity,
for replaying history into the distributed setup and for demos.

Each event goes to its family's topic (``order.paid`` → the ``order`` family's topic),
keyed by the entity it is about, so one entity's events stay in order on one partition.
A line that is not a valid event, or of a family with no topic, goes to the fallback
topic (unkeyed if invalid): the
worker dead-letters it with its reason, and nothing is lost on the way. Every half second,
and at the end, every partition of those topics gets a watermark message (``_watermarks``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from monitor import ConfigError, Event, EventError, Settings, parse_event

from ._files import progress_bar, read_records, total_size
from ._topics import bootstrap_servers, ensure_topics
from ._watermarks import Watermarks

ENTITY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "order": ("order_id",),
    "stock": ("warehouse", "sku"),
    "shipment": ("shipment_id",),
    "complaint": ("complaint_id",),
}


@dataclass
class Published:
    """What ``produce`` sent: messages per topic, and the lines that were not valid events."""

    per_topic: Counter[str] = field(default_factory=Counter)
    invalid: int = 0


def family(event_type: str) -> str:
    """The family of an event type: the part before its first dot."""
    return event_type.split(".", 1)[0]


def entity_key(event: Event) -> bytes:
    """The entity an event is about (order, SKU at a site, shipment), as a message key."""
    data = event.data.model_dump()
    fields = ENTITY_FIELDS.get(family(event.type), ())
    return "|".join(str(data.get(name, "")) for name in fields).encode() or event.id.encode()


async def produce(
    settings: Settings,
    paths: Sequence[str],
    topics: Mapping[str, str],
    *,
    fallback: str,
    progress: bool = True,
) -> Published:
    """Publish every line of ``paths`` to the topic of its event family (``topics``)."""
    await ensure_topics(settings, [*topics.values(), fallback])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers(settings.broker), acks="all", linger_ms=5
    )
    try:
        await producer.start()
    except KafkaError as error:
        raise ConfigError(f"cannot reach the Kafka broker {settings.broker}: {error}") from None
    published = Published()
    try:
        targets = sorted({*topics.values(), fallback})
        watermarks = Watermarks(producer, await _partitions(producer, targets))
        with ExitStack() as files, progress_bar("produce", enabled=progress) as bar:
            task = bar.add_task("produce", total=total_size(paths) or None, records=0)
            for record, size in read_records(paths, files):
                topic, key, at = _destination(record.raw, topics, fallback, published)
                await producer.send(topic, record.raw, key=key)
                published.per_topic[topic] += 1
                if at is not None:
                    await watermarks.passed(at)
                bar.update(task, advance=size, records=published.per_topic.total())
            await watermarks.send()
            await producer.flush()
    finally:
        await producer.stop()
    return published


async def _partitions(producer: AIOKafkaProducer, topics: list[str]) -> list[tuple[str, int]]:
    """Every partition of ``topics``, as the broker reports them."""
    found: list[tuple[str, int]] = []
    for topic in topics:
        found.extend((topic, number) for number in sorted(await producer.partitions_for(topic)))
    return found


def _destination(
    raw: bytes, topics: Mapping[str, str], fallback: str, published: Published
) -> tuple[str, bytes | None, float | None]:
    """Topic, key and event time of a line (no key nor time for an invalid one)."""
    try:
        event = parse_event(raw)
    except EventError:
        published.invalid += 1
        return fallback, None, None
    return topics.get(family(event.type), fallback), entity_key(event), event.timestamp
