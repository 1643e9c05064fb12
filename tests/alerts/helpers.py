"""Builders shared by the alert tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from alerts import Message, Notifier, NotifierMetrics, ReceiverConfig, compose, load_routing, notify
from monitor import Change, RawRecord, Runtime, Ticket

URL = "https://riskmon.example/tickets/{id}"
OPENED_AT = 1_700_000_000.0
START = 1_750_000_000.0


class Clock:
    """A wall clock the test moves; sleeping moves it too, and is remembered."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def ticket(number: int = 1, **fields: Any) -> Ticket:
    """An open P1 stock-out ticket, as the engine makes them."""
    values: dict[str, Any] = {
        "id": f"T-test{number:04d}",
        "rule": "stock.out",
        "dedup_key": f"W1|S{number}",
        "severity": "P1",
        "team": "inventory",
        "title": f"Stock out: W1 S{number}",
        "status": "open",
        "occurrences": 1,
        "first_seen": OPENED_AT,
        "last_seen": OPENED_AT,
        "acknowledge_due": OPENED_AT + 1800,
        "resolve_due": OPENED_AT + 14400,
        "rule_set_version": "v1",
        "source": "warehouse-berlin",
        "history": (Change(OPENED_AT, "engine", "opened", "Stock out"),),
    }
    return Ticket(**(values | fields))


def message(language: str = "en", change: str = "opened", **fields: Any) -> Message:
    """A one-notification message about ``ticket(**fields)``."""
    return compose([notify(ticket(**fields), change)], language=language, ticket_url=URL)


def receiver_config(kind: str, **fields: Any) -> ReceiverConfig:
    """A receiver entry as a routing file would give it."""
    return ReceiverConfig.model_validate({"name": kind, "kind": kind, **fields})


def routes_file(runtime: Runtime) -> Path:
    """Where the runtime's settings put the routing file."""
    path = runtime.settings.routes_file
    assert path is not None
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def notifier_on(runtime: Runtime, clock: Clock, metrics: NotifierMetrics | None = None) -> Notifier:
    """The notifier of the runtime's routing file, on the test's clock."""
    return Notifier(
        load_routing(routes_file(runtime)),
        runtime.client,
        runtime.settings.redis_prefix,
        tickets=runtime.tickets,
        ticket_url=URL,
        metrics=metrics,
        clock=clock,
        sleep=clock.sleep,
    )


def records(*documents: dict[str, object]) -> list[RawRecord]:
    """Events as a batch of raw records."""
    return [RawRecord(orjson.dumps(d), f"test:{n}") for n, d in enumerate(documents, 1)]
