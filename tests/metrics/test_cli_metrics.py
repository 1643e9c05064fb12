"""``riskmon run --metrics-port``: /metrics is served during the run and, with
``--serve-after``, after it until SIGINT or SIGTERM; misuse is refused plainly."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import orjson
import pytest

from ..e2e.test_real_data import RISKMON
from ..monitor.helpers import event
from .helpers import start_run


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    documents = [event("order.paid", hour, order_id=f"O{hour}") for hour in range(3)]
    path.write_bytes(b"".join(orjson.dumps(document) + b"\n" for document in documents))
    return path


@pytest.mark.usefixtures("riskmon_env")
def test_serve_after_keeps_the_final_values_until_interrupted(events: Path) -> None:
    """SIGINT here; the Prometheus test stops its run with SIGTERM."""
    run, url = start_run(str(events), "--metrics-port", "0", "--serve-after")
    try:
        run.wait_for("Run done")
        with urllib.request.urlopen(url, timeout=10) as response:
            exposition = response.read().decode()
        assert "riskmon_records_read_total 3.0" in exposition
        assert 'riskmon_events_processed_total{source="test",type="order.paid"} 3.0' in exposition
    finally:
        status = run.stop(signal.SIGINT)
    assert status == 0, run.output


def _riskmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RISKMON, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.usefixtures("riskmon_env")
def test_a_busy_port_is_refused_plainly(events: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = _riskmon("run", str(events), "--metrics-port", str(busy.getsockname()[1]))
    assert done.returncode == 1
    assert "cannot serve metrics on 127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.usefixtures("riskmon_env")
def test_serve_after_needs_a_port(events: Path) -> None:
    done = _riskmon("run", str(events), "--serve-after")
    assert done.returncode == 2
    assert "--serve-after needs --metrics-port" in done.stderr
