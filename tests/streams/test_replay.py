"""The file replay: bad input is dead-lettered with its reason, nothing is lost, and a
second replay of the same file changes nothing."""

from __future__ import annotations

from pathlib import Path

import orjson
import redis

from monitor import DEFAULT_POLICY, FileDeadLetters, RedisTicketStore, Runtime, Settings
from streams import replay

from ..monitor.helpers import event


def _runtime(client: redis.Redis, prefix: str, data_dir: Path) -> Runtime:
    settings = Settings(data_dir=data_dir, redis_prefix=prefix)
    tickets = RedisTicketStore(client, prefix, DEFAULT_POLICY)
    return Runtime(settings, client, tickets, FileDeadLetters(data_dir / "dead-letters.jsonl"))


def _mixed_file(path: Path) -> tuple[int, dict[str, int]]:
    """Valid stock events interleaved with every kind of broken line."""
    good = [
        orjson.dumps(
            event("stock.level", hour, sku=f"S{hour}", warehouse="W", on_hand=0, safety_threshold=3)
        )
        for hour in range(40)
    ]
    broken = {
        "malformed-json": [b'{"id": "x1", "source": "s", "type": "stock.lev', b"{not json}"],
        "invalid-data": [
            orjson.dumps(event("stock.level", 1, sku="A", warehouse="W", on_hand="lots")),
            orjson.dumps(event("stock.level", 1, sku="A", on_hand=3)),
        ],
        "unknown-type": [orjson.dumps(event("stock.teleported", 1, sku="A"))],
        "not-utf8": [b'{"id": "\xff\xfe", "source": "s"}'],
        "invalid-envelope": [
            orjson.dumps(
                {
                    **event("stock.level", 1, sku="A", warehouse="W", on_hand=1),
                    "time": "2017-02-30T00:00:00Z",
                }
            ),
            b'{"id": "huge", "source": "s", "type": "stock.level", '
            b'"time": "2017-05-01T00:00:00Z", "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        ],
        "not-an-object": [b"42"],
    }
    lines = []
    flat = [line for lines_of in broken.values() for line in lines_of]
    for index, line in enumerate(good):
        lines.append(line)
        if index < len(flat):
            lines.append(flat[index])
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(good), {reason: len(items) for reason, items in broken.items()}


def test_broken_lines_are_dead_lettered_and_valid_ones_processed(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    path = tmp_path / "mixed.jsonl"
    valid, broken = _mixed_file(path)
    runtime = _runtime(client, prefix, tmp_path / "data")
    stats = replay(runtime.pipeline(), [str(path)], batch_size=7, progress=False)
    assert stats.read == valid + sum(broken.values())
    assert stats.processed == valid
    assert dict(stats.dead_letters) == broken
    assert len([t for t in runtime.tickets.all() if t.rule == "stock.out"]) == valid
    letters = [orjson.loads(line) for line in runtime.dead_letters.path.read_bytes().splitlines()]
    assert sorted(letter["reason"] for letter in letters) == sorted(
        reason for reason, count in broken.items() for _ in range(count)
    )
    assert all(letter["origin"].startswith(f"{path}:") for letter in letters)
    huge = next(letter for letter in letters if "huge" in letter.get("raw", ""))
    assert len(huge["raw"]) > 5 * 1024 * 1024
    binary = next(letter for letter in letters if letter["reason"] == "not-utf8")
    assert "raw_base64" in binary


def test_second_replay_of_the_same_file_changes_nothing(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    path = tmp_path / "events.jsonl"
    documents = [event("order.paid", hour * 30, order_id=f"O{hour}") for hour in range(20)]
    path.write_bytes(b"\n".join(orjson.dumps(d) for d in documents) + b"\n")
    runtime = _runtime(client, prefix, tmp_path / "data")
    first = replay(runtime.pipeline(), [str(path)], batch_size=5, progress=False)
    before = [t.to_json() for t in runtime.tickets.all()]
    assert first.changes and before
    second = replay(runtime.pipeline(), [str(path)], batch_size=5, progress=False)
    assert second.processed == 0 and second.duplicates == len(documents)
    assert not second.changes
    assert [t.to_json() for t in runtime.tickets.all()] == before


def test_several_files_are_merged_by_event_time(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    stock = {"sku": "S1", "warehouse": "W", "safety_threshold": 5}
    orders = tmp_path / "orders.jsonl"
    orders.write_bytes(orjson.dumps(event("order.paid", 100, order_id="O1")) + b"\n")
    levels = tmp_path / "stock.jsonl"
    levels.write_bytes(
        orjson.dumps(event("stock.level", 0, on_hand=0, **stock))
        + b"\n"
        + orjson.dumps(event("stock.level", 10, on_hand=9, **stock))
        + b"\n"
    )
    runtime = _runtime(client, prefix, tmp_path / "data")
    stats = replay(runtime.pipeline(), [str(orders), str(levels)], batch_size=1, progress=False)
    assert stats.late == 0
    (ticket,) = [t for t in runtime.tickets.all() if t.rule == "stock.out"]
    assert ticket.status == "resolved" and ticket.severity == "P1"
    clocks = ["sla-warning", "sla-breached"] * 2  # acknowledge (30 min) and resolve (4 h)
    assert [change.action for change in ticket.history] == ["opened", *clocks, "resolved"]


def test_an_event_from_the_future_is_dead_lettered(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    path = tmp_path / "typo.jsonl"
    typo = {
        **event("stock.level", 0, sku="S", warehouse="W", on_hand=0),
        "time": "2204-03-01T00:00:00Z",
    }
    path.write_bytes(
        orjson.dumps(event("order.paid", 0, order_id="O")) + b"\n" + orjson.dumps(typo) + b"\n"
    )
    runtime = _runtime(client, prefix, tmp_path / "data")
    pipeline = runtime.pipeline()
    stats = replay(pipeline, [str(path)], batch_size=10, progress=False)
    assert dict(stats.dead_letters) == {"implausible-time": 1}
    soon = {**typo, "id": "soon", "time": "2090-01-01T00:00:00Z"}
    path.write_bytes(orjson.dumps(soon) + b"\n")
    stats = replay(pipeline, [str(path)], batch_size=10, progress=False)
    assert stats.dead_letters["time-in-future"] == 1
    assert pipeline.engine.watermark < 2e9


def test_a_byte_order_mark_does_not_cost_the_first_event(
    tmp_path: Path, any_redis: tuple[redis.Redis, str]
) -> None:
    client, prefix = any_redis
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(event("order.paid", 0, order_id="O")) + b"\n")
    stats = replay(
        _runtime(client, prefix, tmp_path / "d").pipeline(),
        [str(path)],
        batch_size=5,
        progress=False,
    )
    assert (stats.processed, sum(stats.dead_letters.values())) == (1, 0)
