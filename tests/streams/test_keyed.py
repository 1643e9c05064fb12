"""The distributed runner's two steps without a broker: the router splits events by rule key,
and a keyed partition processes them in event-time order once every source has passed, so
its tickets equal the replay's whatever order the sources' messages arrived in."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from monitor import (
    DEFAULT_POLICY,
    Engine,
    MemoryTicketStore,
    Pipeline,
    RawRecord,
    StoreError,
    owner,
    validate_event,
)
from monitor.importing import load_mapping, preset_path, run_import
from rules import RuleBook, load_rules
from streams._keyed import KeyedPartition
from streams._messages import Bundle, Mark, Routed, decode, encode
from streams._router import Router
from streams._table_state import TableCheckpoint, TableEntries
from streams._worker import DeadLetterTopic

from ..monitor.helpers import at, event

DEMO = Path(__file__).resolve().parents[2] / "monitor" / "demo"
SOURCES = ("orders/0", "stock/0")


def _book() -> RuleBook:
    return RuleBook(load_rules())


class Partitioned:
    """Routers' output delivered to keyed partitions over plain dicts as tables."""

    def __init__(self, partitions: int, tickets: MemoryTicketStore, **options: Any) -> None:
        self.book = _book()
        self.tickets = tickets
        self.tables = [dict[str, Any]() for _ in range(partitions)]
        self.router = Router(self.book, partitions=partitions, max_future=float("inf"),
                             idle_after=0.0, clock=lambda: 0.0)  # fmt: skip
        self.options = {
            "sources": SOURCES,
            "lateness": 0.0,
            "batch_size": 50,
            "idle_after": 0.0,
            **options,
        }
        self.keyed = [self.open(number) for number in range(partitions)]

    def open(self, number: int) -> KeyedPartition:
        def pipeline(checkpoint: TableCheckpoint) -> Pipeline:
            engine = Engine(self.book, checkpoint.state, policy=DEFAULT_POLICY)
            return Pipeline(engine, self.tickets, checkpoint, DeadLetterTopic())

        return KeyedPartition(TableEntries(self.tables[number], 0), pipeline, **self.options)

    def route(self, lines: list[bytes], source: str) -> None:
        records = [(RawRecord(line, f"{source}@{n}"), source) for n, line in enumerate(lines)]
        sends, letters = self.router.route(records)
        assert letters == []
        for partition, message in sends:
            self.deliver(partition, message)

    def deliver(self, partition: int, message: Bundle | Mark) -> None:
        keyed = self.keyed[partition]
        keyed.take(decode(encode(message)))  # through the wire format
        keyed.release()

    def mark(self, source: str, caught_up: bool) -> None:
        for partition, message in self.router.marks({source: caught_up}):
            self.deliver(partition, message)


def _replayed(lines: list[bytes], batch_size: int) -> list[Any]:
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    checkpoint = TableCheckpoint(TableEntries({}, 0))
    engine = Engine(_book(), checkpoint.state, policy=DEFAULT_POLICY)
    pipeline = Pipeline(engine, tickets, checkpoint, DeadLetterTopic())
    for start in range(0, len(lines), batch_size):
        pipeline.process([RawRecord(line, "f") for line in lines[start : start + batch_size]])
    return sorted(tickets.all(), key=lambda ticket: ticket.id)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """The shipped real sample, imported: orders and shipments, and stock records."""
    folder = tmp_path_factory.mktemp("demo")
    out = {"orders": folder / "orders.jsonl", "stock": folder / "stock.jsonl"}
    run_import(load_mapping(preset_path("olist")), DEMO / "olist", out["orders"])
    stock_csv = DEMO / "civ_stock" / "contraceptive_logistics_data.csv"
    run_import(load_mapping(preset_path("civ_stock")), stock_csv, out["stock"])
    return {name: path.read_bytes().splitlines() for name, path in out.items()}


def _by_time(*streams: list[bytes]) -> list[bytes]:
    lines = [line for stream in streams for line in stream]
    return sorted(lines, key=lambda line: orjson.loads(line)["time"])


def _chunks(lines: list[bytes], size: int) -> Iterator[list[bytes]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


def test_tickets_do_not_depend_on_the_batch_size(demo: dict[str, list[bytes]]) -> None:
    lines = _by_time(demo["orders"], demo["stock"])
    assert _replayed(lines, 1) == _replayed(lines, 1000)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_partitions_fed_in_any_interleaving_give_the_replays_tickets(
    demo: dict[str, list[bytes]], seed: int
) -> None:
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    run = Partitioned(4, tickets)
    chunks = [("orders/0", c) for c in _chunks(demo["orders"], 37)]
    chunks += [("stock/0", c) for c in _chunks(demo["stock"], 53)]
    order, stock = (
        iter(c for c in chunks if c[0] == "orders/0"),
        iter(c for c in chunks if c[0] != "orders/0"),
    )
    shuffled = random.Random(seed)
    pending = {"orders/0": order, "stock/0": stock}
    while pending:  # each source in its own order, the two interleaved at random
        source = shuffled.choice(sorted(pending))
        item = next(pending[source], None)
        if item is None:
            del pending[source]
            run.mark(source, caught_up=True)
            continue
        run.route(item[1], source)
        run.mark(source, caught_up=False)
    assert sum(keyed.buffered for keyed in run.keyed) == 0
    expected = _replayed(_by_time(demo["orders"], demo["stock"]), 1000)
    assert sorted(tickets.all(), key=lambda ticket: ticket.id) == expected
    assert len(expected) > 100


def test_nothing_is_processed_before_every_source_has_reported() -> None:
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    run = Partitioned(1, tickets)
    stock = {"sku": "S", "warehouse": "W", "safety_threshold": 5}
    run.route([orjson.dumps(event("stock.level", 0, on_hand=0, **stock))], "stock/0")
    run.mark("stock/0", caught_up=False)
    assert run.keyed[0].buffered == 1 and list(tickets.all()) == []  # orders/0 never spoke
    run.mark("orders/0", caught_up=False)  # it has read nothing: it holds time back
    assert run.keyed[0].buffered == 1
    run.mark("orders/0", caught_up=True)  # idle: it holds no one back
    assert run.keyed[0].buffered == 0
    (ticket,) = tickets.all()
    assert ticket.rule == "stock.out" and ticket.first_seen == at(0)


def test_a_restarted_partition_continues_from_its_table_and_skips_what_it_processed() -> None:
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    run = Partitioned(1, tickets)
    paid = orjson.dumps(event("order.paid", 0, order_id="O1"))
    run.route([paid], "orders/0")
    run.mark("orders/0", caught_up=True)
    run.mark("stock/0", caught_up=True)
    assert run.keyed[0].buffered == 0
    assert list(tickets.all()) == []  # the 7-day timer is pending, in the table
    run.keyed[0] = run.open(0)  # a new worker takes the partition over
    run.mark("stock/0", caught_up=True)  # every source speaks again on the routers' next tick
    run.route([paid], "orders/0")  # redelivered after the crash: processed before
    assert run.keyed[0].buffered == 0
    run.route([orjson.dumps(event("order.paid", 24 * 8, order_id="O2"))], "orders/0")
    run.mark("orders/0", caught_up=False)
    (ticket,) = tickets.all()
    assert (ticket.rule, ticket.dedup_key, ticket.first_seen) == (
        "fulfilment.not-handed-over",
        "O1",
        at(24 * 7),
    )


class _FailingTickets(MemoryTicketStore):
    """Tickets whose store is down while ``down`` is set."""

    down = False

    def apply(self, actions: Any) -> Any:
        if self.down:
            raise StoreError("cannot write tickets to Redis: connection refused")
        return super().apply(actions)


def test_a_failed_store_keeps_the_events_buffered_until_it_works_again() -> None:
    tickets = _FailingTickets(DEFAULT_POLICY)
    run = Partitioned(1, tickets)
    run.mark("orders/0", caught_up=True)
    stock = {"sku": "S", "warehouse": "W", "safety_threshold": 5}
    tickets.down = True
    with pytest.raises(StoreError):  # the event tells its source's time: it is released
        run.route([orjson.dumps(event("stock.level", 0, on_hand=0, **stock))], "stock/0")
    assert run.keyed[0].buffered == 1 and run.keyed[0].done == []
    tickets.down = False
    run.keyed[0].release()
    (ticket,) = tickets.all()
    assert ticket.rule == "stock.out" and ticket.occurrences == 1
    assert len(run.keyed[0].done) == 1


def test_the_router_sends_an_event_to_each_owner_once_and_counts_it_at_home() -> None:
    book = _book()
    router_rules = book.current.rules
    router = Router(book, partitions=8, max_future=86400.0, idle_after=5.0, clock=lambda: 0.0)
    basket = {"customer_id": "C", "total": 5.0, "items": [{"sku": "A"}], "address": {}}
    created = orjson.dumps(event("order.created", 0, order_id="O1", **basket))
    sends, letters = router.route([(RawRecord(created, "orders/0@0"), "orders/0"),
                                   (RawRecord(b"{oops", "orders/0@1"), "orders/0")])  # fmt: skip
    assert [letter.reason for letter in letters] == ["malformed-json"]
    routed = [(partition, e) for partition, bundle in sends for e in bundle.events]  # type: ignore[union-attr]
    expected: dict[int, set[str]] = {}
    fact = validate_event(orjson.loads(created)).as_fact()
    for rule in ("order.data-error", "order.duplicate"):
        key = router_rules.by_id(rule).key_of(fact)
        assert key is not None
        expected.setdefault(owner(rule, key, 8), set()).add(rule)
    by_partition: dict[int, set[str]] = {}
    for partition, routed_event in routed:
        by_partition.setdefault(partition, set()).update(routed_event.rules)
    assert by_partition == expected
    assert sum(routed_event.home for _, routed_event in routed) == 1


def test_an_idle_source_runs_on_with_the_wall_clock_from_its_last_event() -> None:
    now = [100.0]
    router = Router(_book(), partitions=2, max_future=86400.0, idle_after=5.0,
                    clock=lambda: now[0])  # fmt: skip
    stock = {"sku": "S", "warehouse": "W", "on_hand": 3, "safety_threshold": 5}
    line = orjson.dumps(event("stock.level", 0, **stock))
    router.route([(RawRecord(line, "stock/1@0"), "stock/1")])
    assert {m for _, m in router.marks({"stock/1": True})} == {Mark("stock/1", at(0), False)}
    now[0] += 4.0
    assert {m for _, m in router.marks({"stock/1": False})} == {Mark("stock/1", at(0), False)}
    now[0] += 6.0  # quiet for 10 s and caught up: idle, its time moved on by 10 s
    (mark,) = {m for _, m in router.marks({"stock/1": True})}
    assert mark == Mark("stock/1", at(0) + 10.0, True)
    (empty,) = {m for _, m in router.marks({"stock/2": True})}
    assert empty == Mark("stock/2", None, False)  # not quiet long enough yet


class _PoisonedEngine(Engine):
    """An engine with a fault: it fails on events whose order id is ``POISON``."""

    def process(self, event: Any, only: Any = None) -> Any:
        if getattr(event.data, "order_id", None) == "POISON":
            raise ZeroDivisionError("division by zero")
        return super().process(event, only)


def test_an_event_the_engine_fails_on_is_dead_lettered_and_the_rest_go_on() -> None:
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    letters = DeadLetterTopic()
    book = _book()

    def pipeline(checkpoint: TableCheckpoint) -> Pipeline:
        engine = _PoisonedEngine(book, checkpoint.state, policy=DEFAULT_POLICY)
        return Pipeline(engine, tickets, checkpoint, letters)

    keyed = KeyedPartition(TableEntries({}, 0), pipeline, sources=["orders/0"], lateness=0.0,
                           batch_size=10, idle_after=0.0)  # fmt: skip
    paid = [event("order.paid", hour, order_id=name) for hour, name in enumerate(["A", "POISON"])]
    paid.append(event("order.paid", 2, order_id="B"))
    rules = frozenset({"fulfilment.not-handed-over"})
    routed = [
        Routed(orjson.dumps(e), f"d{n}", at(n), rules, True, f"orders/0@{n}")
        for n, e in enumerate(paid)
    ]
    keyed.take(Bundle(tuple(routed)))
    keyed.take(Mark("orders/0", at(24 * 30), True))
    keyed.release()
    assert keyed.buffered == 0 and sorted(keyed.done) == ["d0", "d1", "d2"]
    (letter,) = letters.pending
    assert (letter.reason, letter.origin) == ("engine-error", "orders/0@1")
    assert letter.detail == "ZeroDivisionError: division by zero"
    assert sorted(t.dedup_key for t in tickets.all()) == ["A", "B"]


def test_a_message_not_written_by_a_worker_is_refused_plainly() -> None:
    for raw in (b"{oops", b'{"events": [["x"]]}', b'{"mark": "orders/0"}', b"[]"):
        with pytest.raises(ValueError, match="not a keyed-topic message"):
            decode(raw)


def test_a_source_never_read_is_waited_for_when_events_start_to_flow() -> None:
    now = [0.0]
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    run = Partitioned(1, tickets, idle_after=5.0, clock=lambda: now[0])
    run.mark("orders/0", caught_up=True)  # an empty topic: idle, never read
    stock = {"sku": "S", "warehouse": "W", "safety_threshold": 5}
    run.route([orjson.dumps(event("stock.level", 0, on_hand=0, **stock))], "stock/0")
    assert run.keyed[0].buffered == 1  # orders/0 may be about to read older events
    now[0] = 4.0
    run.mark("orders/0", caught_up=True)
    assert run.keyed[0].buffered == 1
    now[0] = 5.0  # still nothing there after idle_after: it holds no one back
    run.mark("orders/0", caught_up=True)
    assert run.keyed[0].buffered == 0
    assert [t.rule for t in tickets.all()] == ["stock.out"]


def test_a_producers_watermark_keeps_a_source_busy_and_moves_its_time() -> None:
    now = [100.0]
    router = Router(_book(), partitions=1, max_future=86400.0, idle_after=5.0,
                    clock=lambda: now[0])  # fmt: skip
    router.note("stock/1", at(3))  # a watermark message: nothing for stock/1 up to hour 3
    now[0] += 4.0
    router.note("stock/1", at(2))  # an older one changes nothing
    now[0] += 4.0  # caught up, but the last watermark came 4 s ago: still busy
    assert {m for _, m in router.marks({"stock/1": True})} == {Mark("stock/1", at(3), False)}


def test_a_source_idle_when_events_start_to_flow_is_waited_for() -> None:
    now = [0.0]
    tickets = MemoryTicketStore(DEFAULT_POLICY)
    run = Partitioned(1, tickets, idle_after=5.0, clock=lambda: now[0])
    out = {"sku": "S", "warehouse": "W", "safety_threshold": 5, "on_hand": 0}
    run.route([orjson.dumps(event("order.created", 0, order_id="o1"))], "orders/0")
    run.route([orjson.dumps(event("stock.level", 0, **out))], "stock/0")
    now[0] = 10.0  # both caught up and quiet: idle, the buffer is empty
    run.mark("orders/0", caught_up=True)
    run.mark("stock/0", caught_up=True)
    assert run.keyed[0].buffered == 0
    run.route([orjson.dumps(event("stock.level", 5, **out))], "stock/0")
    assert run.keyed[0].buffered == 1  # orders/0 may have older events of this load coming
    now[0] = 14.0
    run.mark("orders/0", caught_up=True)
    assert run.keyed[0].buffered == 1
    now[0] = 15.0  # still idle after idle_after: it holds no one back
    run.mark("orders/0", caught_up=True)
    assert run.keyed[0].buffered == 0


class _RecordingTable(dict[str, Any]):
    """A table that remembers its writes in order, as its changelog would get them."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, Any]] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes.append((key, value))
        super().__setitem__(key, value)

    def pop(self, key: str, *default: Any) -> Any:
        self.writes.append((key, _DELETED))
        return super().pop(key, *default)


_DELETED = object()


def _on_table(table: dict[str, Any], tickets: MemoryTicketStore) -> Pipeline:
    checkpoint = TableCheckpoint(TableEntries(table, 0))
    engine = Engine(_book(), checkpoint.state, policy=DEFAULT_POLICY)
    return Pipeline(engine, tickets, checkpoint, DeadLetterTopic())


def _summary(tickets: MemoryTicketStore) -> list[tuple[Any, ...]]:
    return sorted((t.id, t.severity, t.status, t.occurrences) for t in tickets.all())


def test_a_crash_part_way_through_a_batchs_table_writes_changes_no_ticket() -> None:
    """The tickets are in Redis before a batch's table writes, which reach the changelog in
    order: a crash keeps any first part of them. Replayed from there, every step must give
    the same tickets, timers included (a stock-out is P0 after 24 h, a restock resolves)."""
    out = {"warehouse": "W", "safety_threshold": 5}
    opened = [_stock(0, sku, on_hand=0, **out) for sku in "AB"]
    restocked = [_stock(60, "A", on_hand=50, **out)]
    steps: list[Callable[[Pipeline], object]] = [
        lambda p: p.process(opened),
        lambda p: p.advance(at(48)),
        lambda p: p.process(restocked),
        lambda p: p.advance(at(24 * 30)),
    ]
    reference = MemoryTicketStore(DEFAULT_POLICY)
    pipeline = _on_table({}, reference)
    for step in steps:
        step(pipeline)
    expected = _summary(reference)
    assert sorted((severity, status) for _, severity, status, _ in expected) == [
        ("P0", "open"),
        ("P0", "resolved"),
    ]

    table, stored = _RecordingTable(), MemoryTicketStore(DEFAULT_POLICY)
    pipeline = _on_table(table, stored)
    for number, step in enumerate(steps):
        before = len(table.writes)
        step(pipeline)
        after_step = copy.deepcopy(stored)  # the tickets are stored before the table
        for kept in range(before, len(table.writes) + 1):
            recovered: dict[str, Any] = {}
            for key, value in table.writes[:kept]:
                if value is _DELETED:
                    recovered.pop(key, None)
                else:
                    recovered[key] = value
            tickets = copy.deepcopy(after_step)
            restarted = _on_table(recovered, tickets)
            for again in steps[number:]:  # the step's messages are delivered again
                again(restarted)
            assert _summary(tickets) == expected, (
                f"crash in step {number} after {kept - before} of its "
                f"{len(table.writes) - before} writes"
            )


def _stock(hours: float, sku: str, **data: Any) -> RawRecord:
    return RawRecord(orjson.dumps(event("stock.level", hours, sku=sku, **data)), f"{sku}@{hours}")
