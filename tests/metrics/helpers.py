"""Processes for the metrics tests: the ``riskmon`` CLI in the background, Prometheus' tools."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ..conftest import REPO
from ..e2e.test_real_data import RISKMON

DEPLOY = REPO / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "riskmon.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERTS_TEST = DEPLOY / "prometheus" / "alerts_test.yml"


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard's JSON model."""
    model: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return model


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard, rows and the panels inside collapsed rows included."""
    panels: list[dict[str, Any]] = []
    stack = list(dashboard()["panels"])
    while stack:
        panel = stack.pop(0)
        panels.append(panel)
        stack.extend(panel.get("panels", []))
    return panels


def dashboard_queries() -> list[str]:
    """Every PromQL expression of the dashboard."""
    return [target["expr"] for panel in dashboard_panels() for target in panel.get("targets", [])]


def tool(name: str) -> str:
    """The path of a Prometheus program; fails the test (no skip) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: these tests need a real Prometheus "
            "(Debian: apt-get install prometheus; .ci/run installs it)"
        )
    return path


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Background:
    """A process whose output lines are collected by a thread, so a test can wait for one."""

    def __init__(self, args: Sequence[str], *, stdin: int | None = None) -> None:
        self.process = subprocess.Popen(
            args,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self._lines.put(raw.decode(errors="replace").rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        """The first new output line that starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.output.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting with {prefix!r}:\n" + "\n".join(self.output))

    def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        """Signal the process (by its pid) and wait for it; returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_run(*args: str, stdin: int | None = None) -> tuple[Background, str]:
    """``riskmon run ARGS`` (ARGS with ``--metrics-port``) and the URL of its metrics."""
    process = Background([*RISKMON, "run", *args], stdin=stdin)
    url = process.wait_for("Metrics at ").removeprefix("Metrics at ")
    return process, url


def promtool(*args: str | Path, stdin: bytes = b"") -> str:
    """Run promtool; fails the test with its output if it fails."""
    command = [tool("promtool"), *map(str, args)]
    done = subprocess.run(command, input=stdin, capture_output=True, timeout=60)
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    return output
