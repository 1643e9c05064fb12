"""A real Prometheus scrapes ``riskmon run`` while it processes real events (Olist orders and
Côte d'Ivoire stock records from ../shared/data), a person acknowledges a ticket with the
CLI, then every PromQL query of the Grafana
dashboard returns data, and the alerting rules load and evaluate on what was scraped."""

from __future__ import annotations

import heapq
import json
import math
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ..e2e.test_real_data import OLIST, STOCK, riskmon
from .helpers import ALERTS, Background, dashboard_queries, free_port, start_run, tool

BATCH = 1000
CHUNK = 2 * BATCH  # fed to stdin at a time, so Prometheus sees the counters grow
BROKEN = [b"{not json", b'{"id": "x", "source": "s", "type": "stock.teleported"}']


class Prometheus:
    """The HTTP API of a Prometheus server."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
            document = json.load(response)
        assert document["status"] == "success", document
        return document["data"]

    def query(self, expression: str) -> list[dict[str, Any]]:
        """The instant vector ``expression`` gives now."""
        data = self.get("/api/v1/query", query=expression)
        assert data["resultType"] == "vector", (expression, data)
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_until(self, expression: str, timeout: float = 30) -> None:
        """Wait until ``expression`` returns something."""
        deadline = time.monotonic() + timeout
        while not self.query(expression):
            assert time.monotonic() < deadline, f"still nothing for {expression}"
            time.sleep(0.2)

    def wait_ready(self, server: Background, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert server.process.poll() is None, "prometheus exited"
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, "prometheus is not ready"
                time.sleep(0.2)


@pytest.fixture
def real_events(riskmon_env: dict[str, str], tmp_path: Path) -> list[bytes]:
    """The first 5,000 Olist events and 3,000 stock events merged by time, with two broken
    lines and a repeated event in the middle (so dead letters and duplicates happen)."""
    olist, stock = tmp_path / "olist.jsonl", tmp_path / "stock.jsonl"
    riskmon("import", "olist", str(OLIST), "-o", str(olist))
    riskmon("import", "civ-stock", str(STOCK), "-o", str(stock), "--safety-months", "3")
    heads = [olist.read_bytes().splitlines()[:5000], stock.read_bytes().splitlines()[:3000]]
    lines = list(heapq.merge(*heads, key=lambda line: _time(line)))
    middle = len(lines) // 2
    lines[middle:middle] = [*BROKEN, lines[middle - 1]]
    return lines


def _time(line: bytes) -> datetime:
    return datetime.fromisoformat(orjson.loads(line)["time"])


def _config(path: Path, metrics_port: int) -> Path:
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": "riskmon", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
        ],
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def test_every_dashboard_query_returns_data_from_a_real_scrape(
    real_events: list[bytes], tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    server = Background(
        [
            tool("prometheus"),
            f"--config.file={_config(tmp_path / 'prometheus.yml', metrics_port)}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
    )
    prometheus = Prometheus(f"http://127.0.0.1:{port}")
    run: Background | None = None
    try:
        prometheus.wait_ready(server)
        started = time.monotonic()
        run, _ = start_run(
            "-", "--metrics-port", str(metrics_port), "--serve-after", "--batch-size", str(BATCH),
            stdin=subprocess.PIPE,
        )  # fmt: skip
        _feed(run, prometheus, real_events)
        run.wait_for("Run done")
        _acknowledge_one()
        done = time.time()
        prometheus.wait_until(f"timestamp(riskmon_records_read_total) > {done}")
        _assert_final_values(prometheus, real_events)

        window = f"{math.ceil(time.monotonic() - started) + 30}s"  # the whole run
        for expression in dashboard_queries():
            result = prometheus.query(expression.replace("$__rate_interval", window))
            assert result, f"no data: {expression}"
            values = [float(sample["value"][1]) for sample in result]
            assert not all(map(math.isnan, values)), f"only NaN: {expression}"
        _assert_alerting_rules_evaluate(prometheus)
    finally:
        status = run.stop(signal.SIGTERM) if run is not None else 0
        server.stop()
    assert status == 0, run.output if run else ""


def _feed(run: Background, prometheus: Prometheus, lines: list[bytes]) -> None:
    """Write the events to the run's stdin a chunk at a time; after each chunk of whole
    batches, wait until Prometheus has scraped its result."""
    stdin = run.process.stdin
    assert stdin is not None
    prometheus.wait_until("riskmon_records_read_total == 0")  # scraped before any event
    for start in range(0, len(lines), CHUNK):
        chunk = lines[start : start + CHUNK]
        stdin.write(b"".join(line + b"\n" for line in chunk))
        stdin.flush()
        if len(chunk) == CHUNK:
            prometheus.wait_until(f"riskmon_records_read_total >= {start + CHUNK}")
    stdin.close()


def _acknowledge_one() -> None:
    """A person acknowledges an open ticket, from another process (as people do)."""
    listing = riskmon("tickets", "list", "--status", "open", "--format", "json").stdout
    first = orjson.loads(listing.splitlines()[0])
    riskmon("tickets", "ack", str(first["id"]), "--by", "tester")


def _assert_final_values(prometheus: Prometheus, lines: list[bytes]) -> None:
    def value(expression: str) -> float:
        (sample,) = prometheus.query(expression)
        return float(sample["value"][1])

    assert value("riskmon_records_read_total") == len(lines)
    assert value("sum(riskmon_events_processed_total)") == len(lines) - len(BROKEN) - 1
    assert value("riskmon_events_duplicate_total") == 1
    assert value("sum(riskmon_dead_letters_total)") == len(BROKEN)
    assert value("sum(riskmon_open_tickets)") > 0
    assert value("riskmon_stock_keys_out") > 0
    assert value("sum(riskmon_ticket_acknowledge_seconds_count)") == 1


def _assert_alerting_rules_evaluate(prometheus: Prometheus) -> None:
    """Every rule evaluates without error; replaying 2016 data lags the wall clock by years
    (that alert is pending), while the run is up and busy (those alerts are quiet)."""
    deadline = time.monotonic() + 10
    while True:
        rules = [r for g in prometheus.get("/api/v1/rules")["groups"] for r in g["rules"]]
        if all(rule["health"] == "ok" for rule in rules) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {rule["name"]: rule["health"] for rule in rules} == {
        name: "ok"
        for name in (
            "RiskmonDown",
            "RiskmonNoEventsProcessed",
            "RiskmonDeadLettersHigh",
            "RiskmonWatermarkLagHigh",
            "RiskmonP0SlaBreached",
        )
    }
    active = {alert["labels"]["alertname"] for alert in prometheus.get("/api/v1/alerts")["alerts"]}
    assert "RiskmonWatermarkLagHigh" in active
    assert not active & {"RiskmonDown", "RiskmonNoEventsProcessed"}
