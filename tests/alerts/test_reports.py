"""Patrol reports sent to real receivers: a summary in each receiver's language, each report
once per receiver, failures retried and logged, the metrics; ``riskmon report schedule``
sending what it generates until every receiver has it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from click.testing import CliRunner, Result
from prometheus_client import CollectorRegistry

from alerts import DeliveryError, NotifierMetrics, ReportNotifier, load_routing
from monitor import Runtime
from monitor.cli import main
from monitor.report import FORMATS, Aggregates, Format, Report, build_report, daily, render

from .helpers import Clock, routes_file, write
from .servers import SECRET, Answer, HttpReceiver, free_port

ZONE = "Asia/Shanghai"
PERIOD = daily(date(2024, 3, 1), ZONE)


def _routes(url: str) -> str:
    return f"""
receivers:
  - {{name: hook, kind: webhook, url: "{url}/hook"}}
  - {{name: slack, kind: slack, url: "{url}/slack"}}
  - {{name: feishu, kind: feishu, url: "{url}/feishu/bot", secret: {SECRET}, language: zh}}
  - {{name: weekly, kind: webhook, url: "{url}/weekly"}}
reports:
  - {{receivers: [hook, slack, feishu], zones: [{ZONE}]}}
  - {{receivers: [weekly], kinds: [weekly]}}
delivery: {{attempts: 3, backoff: 10s, max_backoff: 1m, timeout: 0.3s}}
"""


def _report(runtime: Runtime) -> tuple[Report, Mapping[Format, str]]:
    """The report of a day with no events recorded: every section there, incomplete."""
    prefix = runtime.settings.redis_prefix
    aggregates = Aggregates(runtime.client, prefix)
    report = build_report(PERIOD, aggregates=aggregates, tickets=runtime.tickets, rules=["r.x"])
    return report, {form: render(report, form) for form in FORMATS}


def _sender(runtime: Runtime, clock: Clock, registry: CollectorRegistry) -> ReportNotifier:
    return ReportNotifier(
        load_routing(routes_file(runtime)),
        runtime.client,
        runtime.settings.redis_prefix,
        metrics=NotifierMetrics(registry),
        clock=clock,
        sleep=clock.sleep,
    )


def _count(registry: CollectorRegistry, receiver: str, result: str) -> float | None:
    labels = {"receiver": receiver, "kind": "report", "result": result}
    return registry.get_sample_value("riskmon_notifications_total", labels)


def test_each_receiver_gets_a_summary_in_its_language_once(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    write(routes_file(runtime), _routes(http_receiver.url))
    registry = CollectorRegistry()
    sender = _sender(runtime, clock, registry)
    report, rendered = _report(runtime)
    assert sender.unsent(PERIOD) == ["hook", "slack", "feishu"]
    assert sender.send(report, rendered) == ["hook", "slack", "feishu"]

    hook, slack, feishu = http_receiver.received
    assert hook.body["title"] == f"Daily patrol report 2024-03-01 ({ZONE})"
    assert hook.body["notifications"] == []
    assert hook.body["report"] | {"headline": None} == {
        "id": PERIOD.id,
        "kind": "daily",
        "period": "2024-03-01",
        "zone": ZONE,
        "generated_at": report.generated_at,
        "data_through": None,
        "complete": False,
        "headline": None,
    }
    assert hook.body["report"]["headline"] == report.headline
    text = hook.body["text"]
    assert text.startswith("Events: 0\nOrders placed: 0\n") and "Incomplete" in text
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert (
        headings and headings == re.findall(r"^## (.+)$", rendered["md"], re.M)[1:][: len(headings)]
    )
    assert text.endswith(f"riskmon report show {PERIOD.id} --format html")
    header, section = slack.body["blocks"]
    assert header["text"]["text"] == hook.body["title"] and section["text"]["text"] == text
    assert len(text) < 3000  # one Slack section
    assert feishu.signed
    content = feishu.body["content"]["text"]
    assert content.startswith(f"巡检日报 2024-03-01（{ZONE}）\n\n事件数: 0\n下单数: 0\n")
    assert "数据不完整" in content and "完整报告" in content

    assert sender.send(report, rendered) == [] and len(http_receiver.received) == 3
    assert sender.unsent(PERIOD) == []
    for name in ("hook", "slack", "feishu"):
        assert _count(registry, name, "sent") == 1
    log = sender.log.read()
    assert {(e.receiver, e.notification, e.change, e.kind, e.attempt) for e in log} == {
        (name, PERIOD.id, "daily", "report", 1) for name in ("hook", "slack", "feishu")
    }


def test_a_failing_receiver_is_retried_logged_and_sent_later(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    write(routes_file(runtime), _routes(http_receiver.url))
    registry = CollectorRegistry()
    sender = _sender(runtime, clock, registry)
    report, rendered = _report(runtime)
    http_receiver.answers.extend([Answer(503, {})] * 3)  # the hook, three attempts
    with pytest.raises(DeliveryError, match="sent to slack, feishu; not delivered to hook"):
        sender.send(report, rendered)
    assert clock.slept == [10, 20]
    failed = [e for e in sender.log.read() if e.result == "failed"]
    assert sorted((e.receiver, e.attempt) for e in failed) == [("hook", n) for n in (1, 2, 3)]
    assert all("HTTP 503" in e.error for e in failed)
    assert (_count(registry, "hook", "failed"), _count(registry, "hook", "sent")) == (3, None)
    histogram = {"receiver": "hook", "kind": "report"}
    assert registry.get_sample_value("riskmon_notification_delivery_seconds_count", histogram) == 3
    assert sender.unsent(PERIOD) == ["hook"]

    assert sender.send(report, rendered) == ["hook"]  # it is back: only it gets the report
    assert [r.path for r in http_receiver.received].count("/hook") == 4
    assert len(http_receiver.received) == 6 and sender.unsent(PERIOD) == []


@pytest.fixture
def schedule_env(
    riskmon_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """The CLI with a daily report at midnight in ``ZONE`` and a routing file; its path."""
    routes = tmp_path / "routes.yaml"
    monkeypatch.setenv("RISKMON_ROUTES_FILE", str(routes))
    monkeypatch.setenv(
        "RISKMON_REPORT_SCHEDULE", orjson.dumps([{"tz": ZONE, "at": "00:00"}]).decode()
    )
    return routes


def _schedule() -> Result:
    return CliRunner().invoke(main, ["report", "schedule", "--once"])


def test_the_schedule_sends_until_every_receiver_has_the_report(
    schedule_env: Path, http_receiver: HttpReceiver
) -> None:
    yesterday = datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=1)
    report_id = f"{yesterday.isoformat()}@{ZONE}"
    gone = f"http://127.0.0.1:{free_port()}"
    receivers = f"""receivers:
  - {{name: hook, kind: webhook, url: "{http_receiver.url}/hook"}}
  - {{name: later, kind: webhook, url: "{{url}}/later"}}
reports:
  - {{receivers: [hook, later]}}
delivery: {{attempts: 2, backoff: 0.01s, timeout: 1s}}
"""
    write(schedule_env, receivers.replace("{url}", gone))
    first = _schedule()
    assert first.exit_code == 1 and f"stored {report_id}" in first.stdout
    assert f"report {report_id}: sent to hook; not delivered to later" in first.output
    again = _schedule()  # stored, but not sent to every receiver: generated and sent again
    assert again.exit_code == 1 and f"stored {report_id}" in again.stdout
    assert [r.path for r in http_receiver.received] == ["/hook"]

    write(schedule_env, receivers.replace("{url}", http_receiver.url))
    done = _schedule()
    assert done.exit_code == 0, done.output
    assert f"sent {report_id} to later" in done.stderr
    assert [r.path for r in http_receiver.received] == ["/hook", "/later"]
    assert "stored" not in _schedule().stdout  # done: stored and sent to every receiver

    log = CliRunner().invoke(main, ["alerts", "log", "--kind", "report", "--format", "json"])
    entries = [orjson.loads(line) for line in log.stdout.splitlines()]
    assert [(e["receiver"], e["result"], e["attempt"]) for e in reversed(entries)] == [
        ("hook", "sent", 1),
        *[("later", "failed", attempt) for _ in range(2) for attempt in (1, 2)],
        ("later", "sent", 1),
    ]
    assert {e["notification"] for e in entries} == {report_id}


@pytest.mark.usefixtures("riskmon_env")
def test_send_without_a_routing_file_is_refused() -> None:
    args = ["report", "daily", "--date", "2024-03-01", "--tz", ZONE, "--send"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "--send needs a routing file" in result.output
