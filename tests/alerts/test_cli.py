"""``riskmon alerts``: silences, the notification log, the routing file check, flushing."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
import redis
from click.testing import CliRunner, Result

from alerts import AlertsError, RoutingError, notifier_for
from alerts.cli import alerts_group
from monitor import TicketChange, load_settings, open_runtime

from .helpers import ticket, write
from .servers import Answer, HttpReceiver


@pytest.fixture
def env(
    riskmon_env: dict[str, str],
    redis_url: str,
    redis_server: tuple[redis.Redis, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Path:
    """The CLI on the real Redis under this test's prefix; returns the routing file path."""
    routes = tmp_path / "routes.yaml"
    for name, value in {
        "RISKMON_REDIS_URL": redis_url,
        "RISKMON_REDIS_PREFIX": redis_server[1],
        "RISKMON_ROUTES_FILE": str(routes),
    }.items():
        monkeypatch.setenv(name, value)
    return routes


def _run(*args: str) -> Result:
    return CliRunner().invoke(alerts_group, list(args))


def _json(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.output.splitlines()]


@pytest.mark.usefixtures("env")
def test_silences_are_added_listed_and_expired() -> None:
    added = _run(
        "silence", "add", "--match", "rule=stock.*", "--match", "source=warehouse-*",
        "--for", "2h", "--author", "ana", "--comment", "stock count",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    silence_id = added.output.split()[0]
    (listed,) = _json(_run("silence", "list", "--format", "json"))
    assert listed["id"] == silence_id and listed["state"] == "active"
    assert listed["matchers"] == {"rule": ["stock.*"], "source": ["warehouse-*"]}
    assert (listed["author"], listed["comment"]) == ("ana", "stock count")
    table = _run("silence", "list")
    assert silence_id in table.output and "rule=stock.*" in table.output
    expired = _run("silence", "expire", silence_id[:5])
    assert expired.exit_code == 0 and "expired" in expired.output
    assert _json(_run("silence", "list", "--format", "json")) == []
    (old,) = _json(_run("silence", "list", "--all", "--format", "json"))
    assert old["state"] == "expired"


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--match", "region=eu"], "a matcher is NAME=GLOB"),
        (["--match", "rule=x", "--for", "soon"], "--for: 'soon' is not a duration"),
        (["--match", "rule=x", "--starts", "2024-05-01T10:00"], "needs an offset"),
    ],
)
def test_bad_silences_are_refused(args: list[str], message: str) -> None:
    result = _run("silence", "add", "--for", "1h", "--comment", "c", *args)
    assert isinstance(result.exception, AlertsError) and message in str(result.exception)


def test_check_flush_and_log(env: Path, http_receiver: HttpReceiver) -> None:
    write(env, f'receivers: [{{name: hook, kind: webhook, url: "{http_receiver.url}"}}]\n')
    assert isinstance(_run("check").exception, RoutingError)
    write(
        env,
        f"""receivers: [{{name: hook, kind: webhook, url: "{http_receiver.url}"}}]
routes: [{{receiver: hook}}]
delivery: {{attempts: 1, backoff: 1s}}
""",
    )
    assert "OK 1 receivers, 1 routes" in _run("check").output
    notifier = notifier_for(open_runtime(load_settings()))
    assert notifier is not None
    http_receiver.answers.append(Answer(503, {}))
    notifier.enqueue([TicketChange(ticket(7), "opened")])
    notifier.flush()
    assert _run("flush").exit_code == 0  # waits for its backoff: nothing yet
    assert len(http_receiver.received) == 1
    time.sleep(1)
    assert _run("flush").exit_code == 0
    assert len(http_receiver.received) == 2
    entries = _json(_run("log", "--format", "json"))
    assert [(e["result"], e["attempt"]) for e in entries] == [("sent", 1), ("failed", 1)]
    assert entries[1]["error"] == f"{http_receiver.url}: HTTP 503 {{}}"
    assert {e["ticket"] for e in entries} == {"T-test0007"} and entries[0]["change"] == "opened"
    assert len(_json(_run("log", "--result", "failed", "--format", "json"))) == 1
    assert "1 entry" in _run("log", "--ticket", "T-test", "--limit", "1").output
