"""The distributed runner against a real Kafka-protocol broker (``tansu``) and the real Redis:
``riskmon worker`` subprocesses make the same tickets as ``riskmon run`` on the same real
data, with several workers, through ``kill -9`` crashes, poison messages and a Redis
outage. Only the final state is compared: the rules escalate and resolve over event time."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pytest
import redis

from streams._watermarks import HEADER

from .conftest import DEMO_EVENTS, FAILED, Replay, Stream
from .worker_helpers import (
    Worker,
    free_port,
    poll,
    read_topic,
    send_raw,
    stop_process,
    stored_rows,
    tails,
    tallies,
    ticket_count,
    topic_size,
    wait_for_port,
)

DEAD_LETTERS = "riskmon-dead-letters"
PARTITIONS = 4  # RISKMON_PARTITIONS
ALL = set(range(PARTITIONS))
SOURCES = ("logistics", "orders", "stock")


def _dead_letters(stream: Stream) -> int:
    return topic_size(stream.bootstrap, DEAD_LETTERS, PARTITIONS)


def _wait_split(stream: Stream, *workers: Worker, timeout: float = 90) -> None:
    """Until the workers' latest assignments split every topic's partitions between them,
    each one having some of the keyed topic."""
    topics = (stream.keyed_topic, *SOURCES)

    def split() -> bool:
        held = [worker.current_assignment() for worker in workers]
        for topic in topics:
            shares = [mine.get(topic, set()) for mine in held]
            if set().union(*shares) != ALL or sum(map(len, shares)) != len(ALL):
                return False
        return all(mine.get(stream.keyed_topic) for mine in held)

    poll(
        split,
        timeout=timeout,
        describe=lambda: (
            "assignments: "
            + "; ".join(f"{w.name}: {w.current_assignment()}" for w in workers)
            + "\n"
            + tails(workers)
        ),
    )


def _wait_tickets(stream: Stream, at_least: int, timeout: float = 120) -> None:
    poll(
        lambda: ticket_count(stream.client, stream.prefix) >= at_least,
        timeout=timeout,
        interval=0.05,
        describe=lambda: (
            f"{ticket_count(stream.client, stream.prefix)} tickets\n" + tails(stream.workers)
        ),
    )


@pytest.mark.slow
def test_one_worker_makes_the_replays_tickets_on_the_whole_corpus(
    stream: Stream, full_events: list[Path], full_expected: Replay
) -> None:
    worker = stream.worker()
    stream.wait_ready(worker)
    published = stream.produce(*full_events)
    lines = sum(len(path.read_bytes().splitlines()) for path in full_events)
    assert (
        sum(int(n.replace(",", "")) for n in re.findall(r": ([\d,]+) messages", published)) == lines
    )
    stream.wait_for_tickets(full_expected.rows, timeout=900)
    assert _dead_letters(stream) == 0


def test_two_workers_split_the_partitions_and_make_the_replays_tickets(
    stream: Stream, demo_events: list[Path], demo_expected: Replay
) -> None:
    first, second = stream.worker("worker-1"), stream.worker("worker-2")
    stream.wait_ready(first, second)
    _wait_split(stream, first, second)
    stream.produce(*demo_events)
    stream.wait_for_tickets(demo_expected.rows, timeout=240)
    assert all(w.running() for w in (first, second)), tails((first, second))
    _wait_split(stream, first, second, timeout=0)  # still split: nobody took all
    assert _dead_letters(stream) == 0
    # Every event was counted once: the report's figures equal the replay's, and so do the
    # metrics the two workers serve.
    assert tallies(stream.client, stream.prefix) == tallies(stream.client, demo_expected.prefix)
    processed = sum(w.metric("riskmon_events_processed_total") for w in (first, second))
    assert processed == DEMO_EVENTS
    assert sum(w.metric("riskmon_events_duplicate_total") for w in (first, second)) == 0
    for worker in (first, second):
        assert "Traceback" not in worker.log(), worker.tail(80)


def test_a_worker_started_on_history_already_published_makes_the_replays_tickets(
    stream: Stream, demo_events: list[Path], demo_expected: Replay
) -> None:
    stream.env["RISKMON_BATCH_SIZE"] = "100"  # many messages waiting: a new group's first read
    stream.produce(*demo_events)
    worker = stream.worker()
    stream.wait_ready(worker)
    stream.wait_for_tickets(demo_expected.rows, timeout=240)


# Kill points: after the first tickets, about a fifth, about half of the 132 (the demo sample
# makes its tickets over a second or two; small batches spread them out).
@pytest.mark.parametrize("after", [1, 25, 70], ids=lambda n: f"after-{n}-tickets")
def test_a_worker_killed_mid_stream_and_restarted_loses_and_duplicates_nothing(
    stream: Stream, demo_events: list[Path], demo_expected: Replay, after: int
) -> None:
    stream.env["RISKMON_BATCH_SIZE"] = "100"
    worker = stream.worker()
    stream.wait_ready(worker)
    stream.produce(*demo_events)
    _wait_tickets(stream, after)
    worker.kill()
    at_kill = stored_rows(stream.client, stream.prefix)
    assert at_kill != demo_expected.rows, "killed after the end: not a crash mid-stream"
    worker.start()
    stream.wait_ready(worker)
    stream.wait_for_tickets(demo_expected.rows, timeout=240)


def test_a_killed_workers_partitions_move_to_the_survivor(
    stream: Stream, demo_events: list[Path], demo_expected: Replay
) -> None:
    stream.env["RISKMON_BATCH_SIZE"] = "100"
    survivor, victim = stream.worker("survivor"), stream.worker("victim")
    stream.wait_ready(survivor, victim)
    _wait_split(stream, survivor, victim)
    stream.produce(*demo_events)
    _wait_tickets(stream, 25)
    victim.kill()
    at_kill = stored_rows(stream.client, stream.prefix)
    assert at_kill != demo_expected.rows, "killed after the end: not a crash mid-stream"
    stream.wait_for_tickets(demo_expected.rows, timeout=240)
    taken = survivor.current_assignment()
    for topic in (stream.keyed_topic, *SOURCES):
        assert taken.get(topic) == ALL, f"{topic}: {taken}\n{survivor.tail()}"


def test_produce_tells_every_partition_how_far_it_has_published(
    stream: Stream, demo_events: list[Path]
) -> None:
    stream.produce(*demo_events)
    lines = [line for path in demo_events for line in path.read_bytes().splitlines()]
    last = max(datetime.fromisoformat(orjson.loads(line)["time"]).timestamp() for line in lines)
    events = 0
    for topic in SOURCES:
        messages = read_topic(stream.bootstrap, topic, PARTITIONS, at_least=1, timeout=30)
        for partition in range(PARTITIONS):
            here = [m for m in messages if m.partition == partition]
            marks = [float(dict(m.headers)[HEADER]) for m in here if m.headers]
            assert marks and marks == sorted(marks), f"{topic}/{partition}: {marks}"
            assert marks[-1] == last  # the last message: everything was published
            assert not here[-1].value
        events += sum(1 for m in messages if not m.headers)
    assert events == len(lines)


def _event(kind: str, time: str, **data: object) -> bytes:
    document = {"id": f"poison-{time}", "source": "test", "type": kind, "time": time, "data": data}
    return orjson.dumps({"specversion": "1.0", **document})


BROKEN = [  # a message, the reason it is dead-lettered for
    (b'{"id": "x1", "source": "s", "type": "order.cre', "malformed-json"),
    (b"[1, 2, 3]", "not-an-object"),
    (_event("order.teleported", "2017-05-01T00:00:00Z", order_id="o"), "unknown-type"),
    (_event("order.created", "2099-01-01T00:00:00Z", order_id="o"), "time-in-future"),
    (_event("order.created", "3000-01-01T00:00:00Z", order_id="o"), "implausible-time"),
    (b'{"id": "\xff\xfe", "source": "s"}', "not-utf8"),
]


def test_broken_messages_go_to_the_dead_letter_topic_and_the_stream_goes_on(
    stream: Stream, demo_events: list[Path], demo_expected: Replay
) -> None:
    worker = stream.worker()
    stream.wait_ready(worker)
    values = [value for value, _ in BROKEN]
    origins = send_raw(stream.bootstrap, "orders", values[:3])  # before the valid events...
    stream.produce(*demo_events)
    origins += send_raw(stream.bootstrap, "orders", values[3:])  # ... and after them
    bad_watermark = [(HEADER, b"soon")]  # a producer's watermark that is not a time
    origins += send_raw(stream.bootstrap, "stock", [b""], headers=bad_watermark)
    stream.wait_for_tickets(demo_expected.rows, timeout=240)

    letters = read_topic(
        stream.bootstrap, DEAD_LETTERS, PARTITIONS, at_least=len(BROKEN) + 1, timeout=60
    )
    found = {}
    for letter in letters:
        headers = {name: value.decode() for name, value in letter.headers}
        assert headers.keys() >= {"reason", "detail", "origin"}, headers
        assert headers["detail"], headers
        found[headers["origin"]] = (letter.value, headers["reason"])
    broken = [*BROKEN, (b"", "malformed-watermark")]
    expected = {
        origin: (value, reason) for origin, (value, reason) in zip(origins, broken, strict=True)
    }
    assert found == expected
    assert len(letters) == len(broken)  # each once
    assert worker.running()


class OwnRedis:
    """A ``redis-server`` of the test's own on a free port, with an append-only file fsynced
    on every write, so a restart on the same port and folder keeps every write."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        folder.mkdir()
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.command = [
            binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(folder),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, "redis-server", timeout=30)

    def stop(self) -> None:
        """SIGTERM: Redis finishes its append-only file and exits."""
        if self.process is not None:
            stop_process(self.process, timeout=10)


@pytest.fixture
def outage_stream(
    request: pytest.FixtureRequest, broker: str, tmp_path: Path
) -> Iterator[tuple[Stream, OwnRedis]]:
    """Workers against a Redis server the test can stop and start again."""
    server = OwnRedis(tmp_path / "own-redis")
    server.start()
    client = redis.Redis.from_url(server.url)
    setup = Stream(broker, client, server.url, "riskmon-test:outage:", tmp_path)
    try:
        yield setup, server
    finally:
        setup.stop_all()
        if request.node.stash.get(FAILED, False):
            print(tails(setup.workers, 80))
        client.close()
        server.stop()


def test_a_redis_outage_holds_the_stream_back_and_loses_nothing(
    outage_stream: tuple[Stream, OwnRedis], demo_events: list[Path], demo_expected: Replay
) -> None:
    stream, server = outage_stream
    worker = stream.worker()
    stream.wait_ready(worker)
    stream.produce(*demo_events)
    _wait_tickets(stream, 1)
    server.stop()

    def waits(times: int) -> bool:
        return worker.current_log().count("waits for Redis") >= times or not worker.running()

    poll(lambda: waits(3), timeout=90, describe=worker.tail)  # and retries with backoff
    assert worker.running(), worker.tail()
    server.start()
    stream.wait_for_tickets(demo_expected.rows, timeout=240)
    assert worker.running()
