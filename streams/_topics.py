"""The Kafka topics of the distributed runner, created on first use with the configured
number of partitions (a broker's auto-created topic would get its default, often one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from monitor import ConfigError, Settings


def bootstrap_servers(broker: str) -> str:
    """``kafka://host:port[;kafka://host2:port]`` → ``host:port,host2:port`` for aiokafka."""
    hosts = [part.strip().removeprefix("kafka://") for part in broker.replace(";", ",").split(",")]
    return ",".join(host for host in hosts if host)


def source_topics(settings: Settings) -> list[str]:
    """The topics events are read from, in a stable order."""
    return sorted(set(settings.topics.values()))


def keyed_topic(settings: Settings) -> str:
    """The worker's internal topic of events re-keyed by rule key."""
    return f"{settings.worker_group}-keyed"


async def ensure_topics(settings: Settings, names: Iterable[str]) -> dict[str, int]:
    """Create the topics that do not exist yet; returns every topic's partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(settings.broker))
    try:
        await admin.start()
    except KafkaError as error:
        raise ConfigError(f"cannot reach the Kafka broker {settings.broker}: {error}") from None
    try:
        wanted = sorted(set(names))
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            topics = [NewTopic(name, settings.partitions, 1) for name in missing]
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                await admin.create_topics(topics)
        return await _partition_counts(admin, wanted)
    finally:
        await admin.close()


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    for _ in range(50):  # a new topic's metadata takes a moment to appear
        described = await admin.describe_topics(names)
        counts = {topic["topic"]: len(topic["partitions"]) for topic in described}
        if all(counts.get(name) for name in names):
            return counts
        await asyncio.sleep(0.1)
    raise ConfigError(f"the broker does not show the topics {', '.join(names)}")


async def worker_topics(settings: Settings) -> dict[str, int]:
    """Create the topics a worker reads and writes; their partition counts."""
    names = [*source_topics(settings), keyed_topic(settings), settings.dead_letter_topic]
    return await ensure_topics(settings, names)
