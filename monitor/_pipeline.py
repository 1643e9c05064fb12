"""The path every runner drives: raw records → events → engine → tickets, state, dead letters.

Order of writes per batch (what makes a crash harmless): tickets first (idempotent per
action id), then keyed state and the ids of the events seen, together. A crash in between
replays the batch from the old state: the same actions, already applied, change nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ._actions import Action
from ._dead_letters import DeadLetter, DeadLetterSink
from ._engine import Engine
from ._errors import EventError, StoreError
from ._events import Event, parse_event
from ._state import MemoryState
from ._ticket_store import TicketChange, TicketStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawRecord:
    """One input record as a runner received it, and where from (``file:line``, offset).

    A distributed worker hands an event to every partition that owns one of its rule keys:
    ``rules`` names the rules to apply there (``None``: all), and only the one copy with
    ``observed`` set is counted by observers (metrics, reports).
    """

    raw: bytes
    origin: str
    rules: frozenset[str] | None = None
    observed: bool = True


class Checkpoint(Protocol):
    """Remembers which events were processed and persists the engine's keyed state."""

    def unseen(self, digests: Sequence[str]) -> list[bool]: ...

    def commit(self, digests: Sequence[str]) -> None: ...


class StatefulCheckpoint(Checkpoint, Protocol):
    """A checkpoint that holds the engine's working state, which it persists on commit."""

    state: MemoryState


@dataclass(frozen=True)
class Batch:
    """What one processed batch did: what observers (summaries, metrics, reports) see."""

    read: int = 0
    events: Sequence[Event] = ()
    actions: Sequence[Action] = ()
    duplicates: int = 0
    late: int = 0
    dead_letters: Sequence[DeadLetter] = ()
    changes: Sequence[TicketChange] = ()
    seconds: float = 0.0
    watermark: float = float("-inf")
    processed: Sequence[Event] = ()  # every event the engine saw, ``events`` only those counted


class PipelineObserver(Protocol):
    """Told about every batch after its results are stored."""

    def observe(self, batch: Batch) -> None: ...


@dataclass
class RunStats:
    """Counts for a run's summary: the pipeline's own observer."""

    read: int = 0
    processed: int = 0
    duplicates: int = 0
    late: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    changes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def observe(self, batch: Batch) -> None:
        self.read += batch.read
        self.processed += len(batch.events)
        self.duplicates += batch.duplicates
        self.late += batch.late
        self.dead_letters.update(letter.reason for letter in batch.dead_letters)
        self.changes.update((c.ticket.rule, c.ticket.severity, c.change) for c in batch.changes)

    @property
    def rate(self) -> float:
        """Records read per second of wall time."""
        return self.read / max(time.monotonic() - self.started, 1e-9)


def event_digest(event: Event) -> str:
    """The identity of an event for de-duplication: its source and id (CloudEvents)."""
    return hashlib.blake2b(event.identity.encode(), digest_size=10).hexdigest()


class Pipeline:
    """Feeds batches of raw records through the engine and carries the results to the sinks."""

    def __init__(
        self,
        engine: Engine,
        tickets: TicketStore,
        checkpoint: Checkpoint,
        dead_letters: DeadLetterSink,
        *,
        max_future: float = float("inf"),
        observers: Sequence[PipelineObserver] = (),
    ) -> None:
        self.max_future = max_future
        self.engine = engine
        self.tickets = tickets
        self.checkpoint = checkpoint
        self.dead_letters = dead_letters
        self.stats = RunStats()
        self.observers: list[PipelineObserver] = [self.stats, *observers]

    def process(self, records: Sequence[RawRecord]) -> list[TicketChange]:
        """Process one batch; returns the ticket changes it made."""
        started = time.perf_counter()
        parsed, letters = parse_records(records, time.time() + self.max_future)
        fresh, digests = self._unseen(parsed)
        duplicates = sum(r.observed for _, r in parsed) - sum(r.observed for _, r in fresh)
        judged = self._judge(fresh)
        if judged.failed:
            letters += judged.failed
            failed = {letter.origin for letter in judged.failed}
            kept = [(item, d) for item, d in zip(fresh, digests, strict=True)
                    if item[1].origin not in failed]  # fmt: skip
            fresh, digests = [item for item, _ in kept], [d for _, d in kept]
        actions, late = judged.actions, judged.late
        changes = self._store(actions, digests)
        self.dead_letters.write(letters)
        self._tell(
            Batch(
                read=sum(record.observed for record in records),
                events=[event for event, record in fresh if record.observed],
                actions=actions,
                duplicates=duplicates,
                late=late,
                dead_letters=letters,
                changes=changes,
                seconds=time.perf_counter() - started,
                watermark=self.engine.watermark,
                processed=[event for event, _ in fresh],
            )
        )
        return changes

    def _judge(self, fresh: list[_Parsed]) -> _Judged:
        """The engine's actions for the fresh events. If the engine fails on the batch (a
        fault of ours, not of the input's form), its events go again one by one from the
        state before it, and those it fails on become dead letters (``engine-error``): one
        such event cannot stop a run or block a partition."""
        self.engine.savepoint()
        try:
            return self._judge_all(fresh)
        except StoreError:
            raise
        except Exception:
            log.exception("the engine failed on a batch; its events go again one by one")
            self.engine.rollback()
        judged = _Judged()
        for item in fresh:
            try:
                one = self._judge_all([item])
            except StoreError:
                raise
            except Exception as error:
                self.engine.rollback()
                detail = f"{type(error).__name__}: {error}"
                judged.failed.append(
                    DeadLetter(item[1].raw, item[1].origin, "engine-error", detail)
                )
            else:
                self.engine.savepoint()
                judged.actions += one.actions
                judged.late += one.late
        return judged

    def _judge_all(self, fresh: list[_Parsed]) -> _Judged:
        judged = _Judged()
        for event, record in fresh:
            if record.observed:
                judged.late += self.engine.is_late(event)
            judged.actions.extend(self.engine.process(event, record.rules))
        return judged

    def advance(self, watermark: float) -> list[TicketChange]:
        """Move event time forward without an event (live runners' wall-clock tick)."""
        started = time.perf_counter()
        actions = self.engine.advance(watermark)
        changes = self._store(actions, [])
        seconds = time.perf_counter() - started
        watermark = self.engine.watermark
        self._tell(Batch(actions=actions, changes=changes, seconds=seconds, watermark=watermark))
        return changes

    def _store(self, actions: list[Action], digests: list[str]) -> list[TicketChange]:
        """Store the tickets, then the keyed state; if the store fails, the working state
        goes back to what was stored, so the batch can go again."""
        try:
            changes = self.tickets.apply(actions)
            for change in changes:
                if change.change == "reopened":
                    ticket = change.ticket
                    self.engine.reopened(ticket.rule, ticket.dedup_key, ticket.last_seen)
            self.checkpoint.commit(digests)
        except StoreError:
            self.engine.rollback()
            raise
        return changes

    def _tell(self, batch: Batch) -> None:
        for observer in self.observers:
            observer.observe(batch)

    def _unseen(self, parsed: list[_Parsed]) -> tuple[list[_Parsed], list[str]]:
        digests = [event_digest(event) for event, _ in parsed]
        flags = self.checkpoint.unseen(digests) if digests else []
        fresh: list[_Parsed] = []
        kept: list[str] = []
        batch_seen: set[str] = set()
        for item, digest, new in zip(parsed, digests, flags, strict=True):
            if new and digest not in batch_seen:
                batch_seen.add(digest)
                fresh.append(item)
                kept.append(digest)
        return fresh, kept


_Parsed = tuple[Event, RawRecord]


@dataclass
class _Judged:
    """What the engine made of a batch's fresh events."""

    actions: list[Action] = field(default_factory=list)
    late: int = 0
    failed: list[DeadLetter] = field(default_factory=list)


def parse_records(
    records: Sequence[RawRecord], latest: float
) -> tuple[list[_Parsed], list[DeadLetter]]:
    """Valid events (each with its record), and dead letters for the rest; an event later
    than ``latest`` (wall clock plus the allowed drift) is refused: one typo'd year would
    move event time for every ticket."""
    parsed: list[_Parsed] = []
    letters: list[DeadLetter] = []
    for record in records:
        try:
            event = parse_event(record.raw)
            if event.timestamp > latest:
                raise EventError(
                    "time-in-future", f"time {event.time.isoformat()} is in the future"
                )
            parsed.append((event, record))
        except EventError as error:
            letters.append(DeadLetter(record.raw, record.origin, error.reason, error.detail))
    return parsed, letters
