"""Fixtures for the alert tests: real receivers on loopback, a real Alertmanager, a runtime
on the real Redis whose settings name a routing file, a wall clock the test moves."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from monitor import Runtime, Settings, open_runtime

from .helpers import URL, Clock
from .servers import HttpReceiver, SmtpReceiver, free_port

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(
    redis_url: str, redis_server: tuple[redis.Redis, str], tmp_path: Path
) -> Iterator[Runtime]:
    settings = Settings(
        redis_url=redis_url,
        redis_prefix=redis_server[1],
        data_dir=tmp_path / "data",
        routes_file=tmp_path / "routes.yaml",
        ticket_url=URL,
    )
    runtime = open_runtime(settings)
    yield runtime
    runtime.client.close()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.close()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager (Debian package prometheus-alertmanager) on a free loopback port,
    with its own storage and a config that routes everything nowhere; its base URL."""
    binary = shutil.which("prometheus-alertmanager") or ALERTMANAGER
    if not Path(binary).exists():
        pytest.fail("prometheus-alertmanager is not installed (make test-programs)")
    folder = tmp_path_factory.mktemp("alertmanager")
    config = folder / "alertmanager.yml"
    config.write_text("route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n")
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address={url.removeprefix('http://')}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).is_success:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("Alertmanager did not become ready")
    yield url
    process.terminate()
    process.wait(timeout=10)
