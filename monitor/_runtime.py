"""Wiring: the settings turned into a connected engine, ticket store and pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from rules import RuleBook

from ._checkpoint import RedisCheckpoint
from ._dead_letters import DeadLetterSink, FileDeadLetters
from ._engine import Engine
from ._events import EVENT_TYPES
from ._pipeline import Pipeline, PipelineObserver, StatefulCheckpoint
from ._redis import connect
from ._settings import Settings
from ._ticket_store import RedisTicketStore
from .report import ReportRecorder


@dataclass
class Runtime:
    """Everything a replay or a CLI command works with."""

    settings: Settings
    client: redis.Redis
    tickets: RedisTicketStore
    dead_letters: FileDeadLetters

    def pipeline(self, observers: Sequence[PipelineObserver] = ()) -> Pipeline:
        """A pipeline over the rules in force and the keyed state persisted in Redis; it
        records the patrol report's figures besides any other ``observers``."""
        book = RuleBook.load(self.settings.rules_dir, event_types=EVENT_TYPES)
        checkpoint = RedisCheckpoint(self.client, self.settings.redis_prefix)
        return self.pipeline_on(book, checkpoint, self.dead_letters, observers)

    def pipeline_on(
        self,
        book: RuleBook,
        checkpoint: StatefulCheckpoint,
        dead_letters: DeadLetterSink,
        observers: Sequence[PipelineObserver] = (),
    ) -> Pipeline:
        """A pipeline over ``book`` and the keyed state of ``checkpoint`` (a runner that
        keeps its state elsewhere, such as the faust worker's Tables, brings its own)."""
        engine = Engine(
            book,
            checkpoint.state,
            policy=self.settings.policy,
            lateness=self.settings.lateness_seconds,
        )
        return Pipeline(
            engine,
            self.tickets,
            checkpoint,
            dead_letters,
            max_future=self.settings.max_future_seconds,
            observers=[ReportRecorder(self.client, self.settings.redis_prefix), *observers],
        )


def open_runtime(settings: Settings) -> Runtime:
    """Connect to Redis (server or embedded) and set up the stores."""
    client = connect(settings)
    tickets = RedisTicketStore(client, settings.redis_prefix, settings.policy)
    dead_letters = FileDeadLetters(settings.data_dir / "dead-letters.jsonl")
    return Runtime(settings, client, tickets, dead_letters)
