"""The command line as a user meets it: exit codes, messages, JSON Lines, settings."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import redis
from click.testing import CliRunner

from monitor.cli import main

from ..monitor.helpers import event

pytestmark = pytest.mark.usefixtures("riskmon_env")


def _invoke(*args: str, stdin: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def _events_file(path: Path) -> Path:
    documents = [
        event("stock.level", 0, sku="S1", warehouse="W1", on_hand=0, safety_threshold=5),
        event("stock.level", 1, sku="S2", warehouse="W1", on_hand=2, safety_threshold=5),
        event("shipment.customs", 2, shipment_id="X", status="held"),
    ]
    path.write_bytes(b"\n".join(orjson.dumps(d) for d in documents) + b"\n")
    return path


def test_run_then_list_as_json_lines(tmp_path: Path) -> None:
    code, output = _invoke("run", str(_events_file(tmp_path / "e.jsonl")), "--no-progress")
    assert code == 0, output
    assert "3 records read" in output and "stock.out" in output
    code, output = _invoke("tickets", "list", "--format", "json")
    assert code == 0
    tickets = [orjson.loads(line) for line in output.splitlines()]
    assert {t["rule"] for t in tickets} == {"stock.out", "stock.below-safety", "customs.hold"}
    for ticket in tickets:
        assert {
            "id",
            "rule",
            "severity",
            "status",
            "dedup_key",
            "occurrences",
            "first_seen",
            "last_seen",
        } <= set(ticket)
    code, output = _invoke(
        "tickets", "list", "--severity", "P1", "--rule", "customs.hold", "--format", "json"
    )
    assert [orjson.loads(line)["dedup_key"] for line in output.splitlines()] == ["X"]
    customs = next(t for t in tickets if t["rule"] == "customs.hold")
    code, output = _invoke("tickets", "show", customs["id"])
    assert code == 0 and "Customs hold: X" in output and "opened" in output
    code, output = _invoke("tickets", "show", "T-nope")
    assert code == 1 and "T-nope: no ticket has that id" in output
    code, output = _invoke("tickets", "show", customs["id"][:8], "--format", "json")
    assert code == 0 and orjson.loads(output)["id"] == customs["id"]
    code, output = _invoke("tickets", "show", "T-")
    assert code == 1 and "3 tickets start with it" in output


def test_run_reads_stdin() -> None:
    line = orjson.dumps(event("stock.level", 0, sku="S1", warehouse="W1", on_hand=0))
    code, output = _invoke("run", "-", "--no-progress", stdin=line + b"\nnot json\n")
    assert code == 0, output
    assert "2 records read" in output and "1 dead-lettered" in output and "malformed-json" in output


def test_rules_check_refuses_a_broken_file_with_file_and_line(tmp_path: Path) -> None:
    code, output = _invoke("rules", "check")
    assert code == 0 and "OK 10 rules" in output
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "rules:\n  - id: x\n    description: d\n    on: [stock.level]\n    when: data.a <\n"
        "    key: data.sku\n    severity: P2\n    team: t\n    title: t\n"
    )
    code, output = _invoke("rules", "check", str(broken))
    assert code == 1
    assert f"{broken}:5:" in output and "cannot read expression" in output


def test_rules_test_runs_every_example() -> None:
    code, output = _invoke("rules", "test")
    assert code == 0, output
    assert output.count("pass ") >= 9 and "FAIL" not in output


def test_a_failing_example_fails_the_command(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        """rules:
  - id: stock.low
    description: low
    on: [stock.level]
    when: data.on_hand < 5
    key: data.sku
    severity: P2
    team: t
    title: low
    examples:
      - events:
          - {type: stock.level, time: "2024-01-01T00:00:00Z",
             data: {sku: A, warehouse: W, on_hand: 9}}
        expect: [{rule: stock.low, key: A}]
"""
    )
    code, output = _invoke("rules", "test", str(pack))
    assert code == 1 and "FAIL" in output and f"{pack}:11:" in output


def test_settings_point_at_a_real_redis_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_server: tuple[redis.Redis, str]
) -> None:
    client, prefix = redis_server
    url = client.connection_pool.connection_kwargs
    monkeypatch.setenv(
        "RISKMON_REDIS_URL", f"redis://{url['host']}:{url['port']}/{url.get('db', 0)}"
    )
    monkeypatch.setenv("RISKMON_REDIS_PREFIX", prefix)
    code, output = _invoke("run", str(_events_file(tmp_path / "e.jsonl")), "--no-progress")
    assert code == 0, output
    assert client.zcard(f"{prefix}tickets") == 3
    assert not (tmp_path / "data" / "riskmon.db").exists()


def test_invalid_settings_get_a_plain_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMON_SLA", '{"P2": {"acknowledge": "soon"}}')
    code, output = _invoke("tickets", "list")
    assert code == 1 and "not a duration" in output


def test_demo_imports_and_replays_the_shipped_sample() -> None:
    code, output = _invoke("demo")
    assert code == 0, output
    assert "imported olist: 224 rows → 889 events" in output
    assert "imported civ_stock: 640 rows → 640 events" in output
    assert "1,529 records read" in output and "delivery.late" in output


def test_people_work_tickets_from_the_command_line(tmp_path: Path) -> None:
    _invoke("run", str(_events_file(tmp_path / "e.jsonl")), "--no-progress")
    code, output = _invoke("tickets", "list", "--rule", "customs.hold", "--format", "json")
    ticket_id = orjson.loads(output.splitlines()[0])["id"]
    assert _invoke("tickets", "ack", ticket_id, "--by", "ana")[0] == 0
    assert _invoke("tickets", "assign", ticket_id, "--to", "customs-desk", "--by", "ana")[0] == 0
    assert _invoke("tickets", "comment", ticket_id, "broker called", "--by", "bo")[0] == 0
    code, output = _invoke("tickets", "resolve", ticket_id, "--by", "bo")
    assert code == 1 and "root cause" in output
    code, output = _invoke(
        "tickets",
        "resolve",
        ticket_id,
        "--by",
        "bo",
        "--root-cause",
        "missing invoice",
        "--action",
        "sent it",
    )
    assert code == 0, output
    code, output = _invoke("tickets", "show", ticket_id, "--format", "json")
    shown = orjson.loads(output)
    assert (shown["status"], shown["assignee"], shown["root_cause"]) == (
        "resolved",
        "customs-desk",
        "missing invoice",
    )
    assert [(c["by"], c["action"]) for c in shown["history"]][1:] == [
        ("ana", "acknowledged"),
        ("ana", "assigned"),
        ("bo", "commented"),
        ("bo", "resolved"),
    ]
    code, output = _invoke("tickets", "ack", ticket_id)
    assert code == 1 and "only open or reopened tickets" in output
    code, output = _invoke("tickets", "comment", ticket_id, "later", "--by", "  ")
    assert code == 2 and "name who makes the change" in output


def test_suppressed_tickets_are_marked_filtered_and_shown_with_their_parent(
    tmp_path: Path,
) -> None:
    readings = [event("stock.level", 0, sku=f"S{n}", warehouse="W1", on_hand=0) for n in range(3)]
    readings.append(event("stock.level", 0, sku="S9", warehouse="W2", on_hand=0))
    events = tmp_path / "stock.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(d) for d in readings) + b"\n")
    assert _invoke("run", str(events), "--no-progress")[0] == 0

    def listed(*args: str) -> list[dict[str, object]]:
        code, output = _invoke("tickets", "list", "--format", "json", *args)
        assert code == 0, output
        return [orjson.loads(line) for line in output.splitlines()]

    held = listed("--suppressed")
    parent = listed("--rule", "stock.site-outage")[0]
    assert sorted(str(t["dedup_key"]) for t in held) == ["W1|S0", "W1|S1", "W1|S2"]
    assert {t["suppressed_by"] for t in held} == {parent["id"]}
    assert {t["dedup_key"] for t in listed("--no-suppressed")} == {"W1", "W2|S9"}
    code, output = _invoke("tickets", "list")
    assert code == 0 and output.count("suppressed") == 3
    code, output = _invoke("tickets", "show", str(parent["id"]), "--format", "json")
    assert sorted(orjson.loads(output)["children"]) == sorted(str(t["id"]) for t in held)
    code, output = _invoke("tickets", "show", str(held[0]["id"]))
    assert code == 0 and "parent" in output and str(parent["id"]) in output
    assert "Site outage" in output and "suppressed" in output
    alone = next(t for t in listed() if t["dedup_key"] == "W2|S9")  # W2 has no outage
    code, output = _invoke("tickets", "show", str(alone["id"]))
    assert code == 0 and f"{alone['parent']} (not opened" in output


def test_produce_refuses_a_topic_the_workers_do_not_read(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_bytes(orjson.dumps(event("order.paid", 0, order_id="o")) + b"\n")
    code, output = _invoke("produce", str(events), "--topic-map", "shipment=carrier-scans")
    assert code == 2 and "the workers do not read carrier-scans (RISKMON_TOPICS)" in output
