"""Patrol reports on real data, through the CLI: the Olist sample and the Côte d'Ivoire stock
records imported and replayed together, then daily and weekly reports whose every figure is
compared with an independent computation from the raw CSV files. A few tickets are then
acknowledged by people at chosen times (``ACKNOWLEDGED``), which the expected figures take
as given. A daily report is also sent, by email and to a webhook."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from monitor import DEFAULT_POLICY, RedisTicketStore
from monitor._ticket_work import acknowledge

from ..alerts.servers import Answer, HttpReceiver, SmtpReceiver
from ..conftest import SHARED_DATA, _delete_prefix
from ..e2e.test_real_data import riskmon
from . import expected, independent
from .checks import SECTIONS, html_charts, markdown_sections

OLIST = SHARED_DATA / "olist"
STOCK = SHARED_DATA / "civ_stock" / "contraceptive_logistics_data.csv"


ACK_DAY, ACK_RULE = date(2018, 2, 17), "fulfilment.late-handover"
# after how long the first late-handover tickets of that day (São Paulo) are acknowledged:
# in time, after the acknowledge SLA ran out, in time
ACKNOWLEDGED = (1 * independent.HOUR, 9 * independent.HOUR, 0.75 * independent.HOUR)


@pytest.fixture(scope="module")
def world() -> independent.World:
    """The raw data, with the chosen episodes acknowledged."""
    found = independent.load(OLIST, STOCK)
    start = expected.midnight(ACK_DAY, "America/Sao_Paulo")
    end = expected.midnight(ACK_DAY + timedelta(days=1), "America/Sao_Paulo")
    starts = [e.start for e in found.episodes if e.rule == ACK_RULE]
    chosen = sorted(
        (e for e in found.episodes if e.rule == ACK_RULE and start <= e.start < end),
        key=lambda e: e.start,
    )[: len(ACKNOWLEDGED)]
    assert len(chosen) == len(ACKNOWLEDGED)
    for episode, after in zip(chosen, ACKNOWLEDGED, strict=True):
        assert starts.count(episode.start) == 1 and episode.end is None
        episode.acknowledged = episode.start + after
    return found


@pytest.fixture(scope="module")
def replayed(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, world: independent.World
) -> Iterator[tuple[redis.Redis, str]]:
    """Both data sets imported and replayed once for the module, on the real Redis server;
    then the world's acknowledged episodes acknowledged through the ticket store."""
    folder = tmp_path_factory.mktemp("report-real")
    prefix = f"riskmon-test:{uuid.uuid4().hex[:12]}:"
    client = redis.Redis.from_url(redis_url)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("RISKMON_RULES_DIR", "RISKMON_SETTINGS", "RISKMON_BATCH_SIZE"):
            patch.delenv(name, raising=False)
        patch.setenv("RISKMON_DATA_DIR", str(folder / "data"))
        patch.setenv("RISKMON_REDIS_URL", redis_url)
        patch.setenv("RISKMON_REDIS_PREFIX", prefix)
        patch.chdir(folder)
        riskmon("import", "olist", str(OLIST), "-o", "olist.jsonl")
        riskmon("import", "civ-stock", str(STOCK), "-o", "stock.jsonl", "--safety-months", "3")
        riskmon("run", "olist.jsonl", "stock.jsonl")
        _acknowledge(RedisTicketStore(client, prefix, DEFAULT_POLICY), world)
        yield client, prefix
    _delete_prefix(client, prefix)
    client.close()


def _acknowledge(store: RedisTicketStore, world: independent.World) -> None:
    """Acknowledge the tickets of the world's acknowledged episodes, found by rule and opening
    time (each ticket here has one episode)."""
    for episode in world.episodes:
        at = episode.acknowledged
        if at is None:
            continue
        (ticket,) = [
            t for t in store.all() if t.rule == episode.rule and t.first_seen == episode.start
        ]
        store.update(ticket.id, lambda t, at=at: acknowledge(t, by="tester", at=at))


def _expected(world: independent.World, first: date, days: int, zone: str) -> dict[str, Any]:
    start = expected.midnight(first, zone)
    end = expected.midnight(first + timedelta(days), zone)
    return expected.figures(world, start, end, expected.bins(first, days, zone))


def _check_headlines(report: dict[str, Any], now: dict[str, Any], before: dict[str, Any]) -> None:
    assert report["headline"] == expected.headline(now)
    assert report["previous"] == expected.headline(before)
    deltas = {
        name: None if value is None or before_value is None else round(value - before_value, 4)
        for (name, value), before_value in zip(
            report["headline"].items(), report["previous"].values(), strict=True
        )
    }
    assert report["deltas"] == deltas


@pytest.mark.usefixtures("replayed")
@pytest.mark.parametrize(
    ("day", "zone"),
    [
        ("2017-11-24", "America/Sao_Paulo"),  # Black Friday: the most orders in one day
        ("2018-02-17", "America/Sao_Paulo"),  # daylight saving ends: a 25-hour day
        ("2018-04-01", "UTC"),  # March's stock records, at midnight UTC, and orders
        ("2018-03-31", "America/Sao_Paulo"),  # the same records, at 21:00 the day before
        ("2018-04-04", "Asia/Kathmandu"),  # UTC+05:45, on the busiest hand-over day
    ],
)
def test_daily_figures_equal_the_raw_data(
    world: independent.World, tmp_path: Path, day: str, zone: str
) -> None:
    out = tmp_path / "report.json"
    riskmon("report", "daily", "--date", day, "--tz", zone, "--format", "json", "-o", str(out))
    report = orjson.loads(out.read_bytes())
    first = date.fromisoformat(day)
    now = _expected(world, first, 1, zone)
    assert report["figures"] == now
    _check_headlines(report, now, _expected(world, first - timedelta(days=1), 1, zone))
    assert report["id"] == f"{day}@{zone}" and report["complete"]
    assert report["headline"]["events"] > 40  # the comparison is not vacuous
    if day == ACK_DAY.isoformat():  # 2 of 3 in time; the late one counts as missed at 8 h
        assert report["headline"]["tickets_acknowledged"] == len(ACKNOWLEDGED)
        assert 0 < report["headline"]["mtta_seconds"] < 9 * independent.HOUR


@pytest.mark.usefixtures("replayed")
def test_weekly_roll_up_equals_the_raw_data_and_renders(world: independent.World) -> None:
    week, zone, monday = "2018-W07", "America/Sao_Paulo", date(2018, 2, 12)
    html = riskmon("report", "weekly", "--week", week, "--tz", zone, "--format", "html").stdout
    report = orjson.loads(riskmon("report", "show", f"{week}@{zone}", "--format", "json").stdout)
    now = _expected(world, monday, 7, zone)
    assert report["figures"] == now
    _check_headlines(report, now, _expected(world, monday - timedelta(days=7), 7, zone))
    days = [monday + timedelta(days=n) for n in range(7)]
    assert report["days"] == [
        {"day": d.isoformat(), "headline": expected.headline(_expected(world, d, 1, zone))}
        for d in days
    ]
    assert sum(day["headline"]["events"] for day in report["days"]) == now["events"]["total"]

    charts = html_charts(html.decode())
    titles = [chart.findtext("{http://www.w3.org/2000/svg}title") for chart in charts]
    assert titles[:2] == ["Tickets per day", "Events per day"]
    assert {"Tickets by severity", "Findings by rule", "Site/SKUs by months of stock"} <= set(
        titles
    )
    markdown = riskmon("report", "show", f"{week}@{zone}").stdout.decode()
    assert markdown_sections(markdown) == [SECTIONS[0], "Day by day", *SECTIONS[1:]]
    for day in report["days"]:
        assert f"| {day['day']} | {day['headline']['events']} |" in markdown
    listing = riskmon("report", "list", "--format", "json").stdout.splitlines()
    assert f"{week}@{zone}" in [orjson.loads(line)["id"] for line in listing]


@pytest.mark.usefixtures("replayed")
def test_a_daily_report_is_sent_once_by_email_and_to_a_webhook(
    world: independent.World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
) -> None:
    day, zone = "2017-11-24", "America/Sao_Paulo"
    routes = tmp_path / "routes.yaml"
    routes.write_text(
        f"""receivers:
  - {{name: hook, kind: webhook, url: "{http_receiver.url}/hook"}}
  - name: managers
    kind: email
    smtp: {{host: 127.0.0.1, port: {smtp_receiver.port}, from: rm@example.com, to: [m@example.com]}}
reports:
  - {{receivers: [managers, hook], zones: [{zone}], kinds: [daily]}}
delivery: {{attempts: 3, backoff: 0.01s, timeout: 5s}}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("RISKMON_ROUTES_FILE", str(routes))
    http_receiver.answers.append(Answer(503, {}))  # the webhook fails once
    sent = riskmon("report", "daily", "--date", day, "--tz", zone, "--send").stderr.decode()
    assert f"sent {day}@{zone} to managers, hook" in sent

    (mail,) = smtp_receiver.mails
    assert mail["Subject"] == f"Daily patrol report {day} ({zone})"
    html, markdown = (mail.get_body((kind,)) for kind in ("html", "plain"))
    assert html is not None and markdown is not None
    charts = html_charts(html.get_content())
    assert len(charts) == 4
    shown = riskmon("report", "show", f"{day}@{zone}").stdout.decode()
    text = markdown.get_content().replace("\r\n", "\n")  # SMTP's line ends
    assert text == shown and markdown_sections(shown) == SECTIONS
    first, second = http_receiver.received
    assert first.body == second.body  # the same message, tried again after the 503
    now = _expected(world, date.fromisoformat(day), 1, zone)
    assert second.body["report"]["headline"] == expected.headline(now)
    assert f"Events: {now['events']['total']:,}" in second.body["text"]

    again = riskmon("report", "daily", "--date", day, "--tz", zone, "--send").stderr.decode()
    assert "not sent: no receiver waits for it" in again
    assert (len(smtp_receiver.mails), len(http_receiver.received)) == (1, 2)
    log = riskmon("alerts", "log", "--kind", "report", "--format", "json").stdout.splitlines()
    entries = [orjson.loads(line) for line in reversed(log)]
    assert [(e["receiver"], e["result"], e["attempt"]) for e in entries] == [
        ("managers", "sent", 1),
        ("hook", "failed", 1),
        ("hook", "sent", 2),
    ]
    assert "HTTP 503" in entries[1]["error"]


def test_replaying_again_changes_no_figure(replayed: tuple[redis.Redis, str]) -> None:
    client, prefix = replayed
    before = _recorded(client, prefix)
    assert len(before) > 600  # a hash per UTC day with events
    again = riskmon("run", "olist.jsonl", "stock.jsonl").stdout.decode()
    assert "No ticket changed" in again
    assert _recorded(client, prefix) == before


def _recorded(client: redis.Redis, prefix: str) -> dict[bytes, dict[bytes, bytes]]:
    """Every figure the recorder keeps: the tally and stock hashes."""
    keys = [
        key
        for family in ("tally", "stock")
        for key in client.scan_iter(match=f"{prefix}report:{family}:*", count=1000)
    ]
    return {key: client.hgetall(key) for key in keys}
