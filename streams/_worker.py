"""The distributed runner: a faust app whose agents drive the same pipeline as the replay.

Two steps, both in every worker:

- ``route`` reads the source topics (raw bytes, so a poison message cannot crash it),
  dead-letters what is not a valid event (reason in the headers) and sends each event to
  the partitions of the keyed topic that own its rule keys; a clock tick sends every keyed
  partition each source partition's watermark (from its events, and from the watermark
  messages of ``riskmon produce``).
- ``judge`` reads the keyed topic: per partition, a ``KeyedPartition`` buffers the events
  until every source has passed their time, then runs the pipeline (tickets in Redis first,
  then the keyed state in a changelogged Table). A message is acknowledged once its results
  are stored, the changelog's included, so a crash replays messages whose results are
  already stored, which changes nothing.

When Redis fails, ``judge`` stops taking messages and retries with backoff (the broker keeps
them): nothing is acknowledged whose tickets were not written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import faust
from faust.transport.consumer import Consumer
from faust.types import TP, EventT, Message, StreamT

from monitor import Batch as PipelineBatch
from monitor import (
    DeadLetter,
    Pipeline,
    PipelineObserver,
    RawRecord,
    Runtime,
    StoreError,
)
from rules import RuleBook

from ._changelog import changelog_table
from ._keyed import KeyedPartition
from ._messages import Message as KeyedMessage
from ._messages import decode, encode
from ._positions import ReadPositions
from ._reload import RuleWatcher
from ._router import Router
from ._table_state import TableCheckpoint, TableEntries
from ._topics import bootstrap_servers, keyed_topic, source_topics
from ._watermarks import watermark_of

log = logging.getLogger(__name__)

_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0
_ROUTE_WITHIN = 0.05  # seconds the router waits to fill a batch
_TABLE_WRITES_BUFFERED = 10_000


@dataclass(frozen=True)
class WorkerOptions:
    """What a worker needs besides the settings: the topics' partition counts as found on
    the broker, extra pipeline observers (metrics, alerts), and who to tell the result of a
    rule reload."""

    partitions: Mapping[str, int]
    observers: Sequence[PipelineObserver] = ()
    on_reload: Callable[[str], None] = lambda result: None


class DeadLetterTopic:
    """Collects dead letters while a message is handled; the agent then sends them to the
    dead-letter topic with the reason, detail and origin in the headers."""

    def __init__(self) -> None:
        self.pending: list[DeadLetter] = []

    def write(self, letters: list[DeadLetter]) -> None:
        self.pending.extend(letters)

    async def send(self, topic: faust.TopicT) -> None:
        letters, self.pending = self.pending, []
        for letter in letters:
            headers = {
                "reason": letter.reason.encode(),
                "detail": letter.detail.encode(),
                "origin": letter.origin.encode(),
            }
            await topic.send(value=letter.raw, headers=headers, force=True)


def create_app(runtime: Runtime, book: RuleBook, options: WorkerOptions) -> faust.App:
    """The faust app of one worker (start it with ``app.main()`` or ``app.worker``)."""
    settings = runtime.settings
    sources = source_topics(settings)
    keyed_count = options.partitions[keyed_topic(settings)]
    app = faust.App(
        settings.worker_group,
        broker=f"kafka://{bootstrap_servers(settings.broker)}",
        store="memory://",
        web_enabled=False,
        topic_partitions=keyed_count,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_seconds,
        broker_heartbeat_interval=settings.session_seconds / 5,
        broker_commit_interval=1.0,
        table_standby_replicas=0,
        # A buffered message is acknowledged only once the watermark lets it through, which
        # needs the rebalance to finish: do not wait for them (they are delivered again).
        stream_wait_empty=False,
    )
    # Table writes wait in faust's producer buffer; past 100 messages (its default) faust
    # pauses the streams until it drains, which throttled the worker to the buffer's pace.
    app.producer.buffer.max_messages = _TABLE_WRITES_BUFFERED
    source_topic = app.topic(*sources, key_type=bytes, value_type=bytes, value_serializer="raw")
    keyed = app.topic(
        keyed_topic(settings), partitions=keyed_count, value_type=bytes, value_serializer="raw"
    )
    dead = app.topic(settings.dead_letter_topic, value_type=bytes, value_serializer="raw")
    table = changelog_table(
        app,
        f"{settings.worker_group}-state",
        partitions=keyed_count,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
    letters = DeadLetterTopic()
    every_source = [f"{t}/{p}" for t in sources for p in range(options.partitions[t])]
    router = Router(
        book,
        partitions=keyed_count,
        max_future=settings.max_future_seconds,
        idle_after=settings.idle_seconds,
    )
    rules = RuleWatcher(book, options.on_reload)
    judges: dict[int, KeyedPartition] = {}
    held = HeldEvents()
    read_up_to: dict[TP, int] = {}
    positions = ReadPositions()

    async def in_order(events: Sequence[EventT]) -> list[EventT]:
        """The events that come in order; where the consumer skipped messages, it reads
        the partition again from the first one skipped (see ``ReadPositions``)."""
        taken, rewound = [], set()  # one seek per partition and batch is enough
        for event in events:
            tp = event.message.tp
            if tp in rewound:
                continue
            missing = positions.missing(tp, event.message.offset)
            if missing is None:
                taken.append(event)
                continue
            if positions.rewind(tp, missing):
                log.warning("%s: the consumer skipped offsets %d to %d; reading them again",
                            _name(tp), missing, event.message.offset - 1)  # fmt: skip
            _committed_gaps(app).pop(tp, None)  # faust counts them as acknowledged
            await app.consumer.seek_wait({tp: missing})  # on the consumer thread
            rewound.add(tp)
        return taken

    def judge_of(partition: int) -> KeyedPartition:
        if partition not in judges:

            def pipeline(checkpoint: TableCheckpoint) -> Pipeline:
                return runtime.pipeline_on(book, checkpoint, letters, options.observers)

            judges[partition] = KeyedPartition(
                TableEntries(table, partition),
                pipeline,
                sources=every_source,
                lateness=settings.lateness_seconds,
                batch_size=settings.batch_size,
                idle_after=settings.idle_seconds,
            )
        return judges[partition]

    async def send_all(sends: list[tuple[int, KeyedMessage]]) -> None:
        for partition, message in sends:
            await keyed.send(value=encode(message), partition=partition, force=True)

    @app.agent(source_topic)
    async def route(stream: StreamT[bytes]) -> None:
        batches = cast(faust.Stream[bytes], stream).take_events(settings.batch_size, _ROUTE_WITHIN)
        async for fetched in batches:
            events = await in_order(fetched)  # the others are read again
            records, bad = _events_and_watermarks(events, router)
            sends, invalid = router.route(records)
            bad += invalid
            await send_all(sends)
            if bad:
                letters.write(bad)
                await letters.send(dead)
                _tell(options.observers, bad)
            for event in events:
                read_up_to[event.message.tp] = event.message.offset + 1

    @app.agent(keyed)
    async def judge(stream: StreamT[bytes]) -> None:
        unacked = cast(faust.Stream[bytes], stream).noack()  # acknowledged once processed
        async for event in unacked.events():
            if not await in_order([event]):
                continue  # read again, with the messages skipped before it
            partition = event.message.partition
            judge = judge_of(partition)
            try:
                message = decode(event.message.value or b"")
            except ValueError as error:  # not written by a worker: keep it, go on
                letters.write([DeadLetter(event.message.value or b"", _origin(event.message),
                                          "not-a-keyed-message", str(error))])  # fmt: skip
                await letters.send(dead)
                await unacked.ack(event)
                continue
            buffered = judge.take(message)
            if buffered:
                held.hold(event, partition, buffered)
            await _release(partition, judge)
            finished = held.done(partition, judge.done)
            judge.done.clear()
            await table.written()  # a committed offset must find its state in the changelog
            if not buffered:
                await unacked.ack(event)
            for done in finished:
                await unacked.ack(done)

    async def _release(partition: int, judge: KeyedPartition) -> None:
        """Release what the watermark allows; while Redis fails, wait and retry (the agent
        takes no more messages meanwhile: the broker keeps them)."""
        delay = _BACKOFF_FIRST
        while True:
            try:
                judge.release()
                break
            except StoreError as error:
                log.warning(
                    "keyed partition %d waits for Redis (%s); retry in %.1fs",
                    partition,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
        await letters.send(dead)

    @app.timer(interval=settings.tick_seconds)
    async def tick() -> None:
        """Send every keyed partition the watermark of each source partition read here;
        reload the rules if their files changed."""
        assigned = {_name(tp): tp for tp in app.consumer.assignment() if tp.topic in sources}
        quiet = [assigned[name] for name in router.quiet(assigned)]
        caught_up = await _caught_up(quiet) if quiet else set()
        await send_all(router.marks({name: name in caught_up for name in assigned}))
        rules.check()

    async def _caught_up(partitions: list[TP]) -> set[str]:
        """The source partitions whose every message has been routed: the offset after the
        last message routed (or, before any, the committed offset) has reached the end the
        broker reports. A message fetched but not routed yet does not count."""
        ends = await app.consumer.highwaters(*partitions)
        # faust's own map of the committed offsets (no public accessor; faust is pinned)
        committed: Mapping[TP, int | None] = app.consumer._committed_offset  # type: ignore[attr-defined]
        unknown = [tp for tp in partitions if tp not in read_up_to and not committed.get(tp)]
        earliest = await app.consumer.earliest_offsets(*unknown) if unknown else {}
        done = set()
        for tp in partitions:
            start = read_up_to.get(tp) or committed.get(tp) or earliest.get(tp) or 0
            if start >= ends[tp]:
                done.add(_name(tp))
        return done

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def recovered(app: faust.App, **_: Any) -> None:
        """The tables are recovered: every keyed partition starts again from its table (an
        offset committed while the table was being recovered saw part of it), and every
        partition is read again from its committed offset (see ``_starts``)."""
        for partition in list(judges):
            judges.pop(partition)
            held.forget(partition)
        positions.restart(await _starts(app))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def revoked(app: faust.App, revoked: set[TP], **_: Any) -> None:
        positions.forget(revoked)
        for tp in revoked:
            if tp.topic == keyed.get_topic_name():
                judges.pop(tp.partition, None)
                held.forget(tp.partition)
            else:
                router.forget(_name(tp))
                read_up_to.pop(tp, None)

    return app


class HeldEvents:
    """Keyed-topic messages whose events wait in a partition's buffer: a message is
    acknowledged when the last of its events is processed."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[int, str], list[EventT]] = {}
        self._left: dict[int, int] = {}  # id of a message's event → events still buffered

    def hold(self, event: EventT, partition: int, digests: list[str]) -> None:
        self._left[id(event)] = len(digests)
        for digest in digests:
            self._waiting.setdefault((partition, digest), []).append(event)

    def forget(self, partition: int) -> None:
        """The partition moved to another worker, which gets its messages again."""
        for key in [key for key in self._waiting if key[0] == partition]:
            for event in self._waiting.pop(key):
                self._left.pop(id(event), None)

    def done(self, partition: int, digests: list[str]) -> list[EventT]:
        """The messages whose events are now all processed."""
        finished = []
        for digest in digests:
            for event in self._waiting.pop((partition, digest), []):
                self._left[id(event)] -= 1
                if not self._left[id(event)]:
                    del self._left[id(event)]
                    finished.append(event)
        return finished


async def _starts(app: faust.App) -> dict[TP, int]:
    """Seek every assigned partition to its committed offset while faust still holds the
    streams back, and say where reading starts: there, or at the earliest offset where nothing
    was committed. faust resumes the streams before its own seek, and fetches from the old
    position then slipped in (see ``ReadPositions``); seeking first, they no longer did in
    the kill tests, and the position check catches any that still would."""
    if not app.consumer.assignment():
        return {}
    committed = await cast(Consumer, app.consumer).seek_to_committed()
    starts = {tp: offset for tp, offset in committed.items() if offset is not None and offset >= 0}
    new = [tp for tp in committed if tp not in starts]
    if new:
        starts.update(await app.consumer.earliest_offsets(*new))
    return starts


def _committed_gaps(app: faust.App) -> dict[TP, Any]:
    """faust's map of the offsets it skipped and counts as acknowledged (private, pinned)."""
    return cast(dict[TP, Any], app.consumer._gap)  # type: ignore[attr-defined]


def _events_and_watermarks(
    events: Sequence[EventT], router: Router
) -> tuple[list[tuple[RawRecord, str]], list[DeadLetter]]:
    """The source messages that are events, each with its source; a producer's watermark
    goes to the router, and one that is malformed becomes a dead letter."""
    records, bad = [], []
    for event in events:
        message = event.message
        try:
            at = watermark_of(message.headers)
        except ValueError as error:
            letter = DeadLetter(message.value or b"", _origin(message), "malformed-watermark",
                                str(error))  # fmt: skip
            bad.append(letter)
            continue
        if at is None:
            records.append((_record(message), _source(message)))
        else:
            router.note(_source(message), at)
    return records, bad


def _record(message: Message) -> RawRecord:
    return RawRecord(message.value or b"", _origin(message))


def _origin(message: Message) -> str:
    return f"{_source(message)}@{message.offset}"


def _source(message: Message) -> str:
    return _name(message.tp)


def _name(tp: TP) -> str:
    """A source partition's name in marks and origins: ``topic/partition``."""
    return f"{tp.topic}/{tp.partition}"


def _tell(observers: Sequence[PipelineObserver], letters: list[DeadLetter]) -> None:
    """Count dead letters (valid events are counted where the pipeline processes them)."""
    batch = PipelineBatch(read=len(letters), dead_letters=letters)
    for observer in observers:
        observer.observe(batch)
