"""The routing file: a good one loads; a bad one is refused with ``file:line``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alerts import RoutingError, ScheduleError, labels_of, load_routing

from .helpers import ticket, write

EXAMPLE_ONCALL = Path(__file__).parents[2] / "alerts" / "packs" / "oncall.example.yaml"

GOOD = """\
receivers:
  - {name: am, kind: alertmanager, url: "http://127.0.0.1:9093"}
  - name: ding
    kind: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=x
    secret: SEC1
    language: zh
  - name: mail
    kind: email
    smtp: {host: smtp.example.com, port: 587, from: a@example.com, to: [b@example.com]}
routes:
  - match: {severity: [P0, P1]}
    receiver: am
    continue: true
  - match: {rule: "stock.*", source: "warehouse-*"}
    receiver: ding
    group_by: [rule, team]
    group_interval: 10m
    repeat_interval: 2h
    notify_on: [opened, resolved]
  - receiver: mail
delivery: {attempts: 5, backoff: 2s, max_backoff: 10m, timeout: 5s}
reports:
  - receivers: [mail]
    zones: [Asia/Shanghai, America/Sao_Paulo]
    kinds: [daily]
  - {receivers: [ding, mail]}
"""


def _route(routing_text: str, tmp_path: Path, **fields: Any) -> list[str]:
    routing = load_routing(write(tmp_path / "routes.yaml", routing_text))
    labels = labels_of(ticket(**fields), "opened")
    return [routing.routes[index].receiver for index, _ in routing.routes_for(labels)]


def test_a_good_file_loads_and_routes(tmp_path: Path) -> None:
    routing = load_routing(write(tmp_path / "routes.yaml", GOOD))
    ding = routing.routes[1]
    assert (ding.group_interval, ding.repeat_interval, ding.group_by) == (
        600,
        7200,
        ["rule", "team"],
    )
    assert routing.routes[0].notify_on == [
        "opened",
        "reopened",
        "escalated",
        "sla-warning",
        "breached",
    ]
    assert routing.delivery.max_backoff == 600 and routing.receiver("mail") is not None
    assert _route(GOOD, tmp_path) == ["am", "ding"]  # P1 stock.out at warehouse-berlin
    assert _route(GOOD, tmp_path, severity="P2") == ["ding"]
    assert _route(GOOD, tmp_path, severity="P3", source="shop") == ["mail"]
    labels = labels_of(ticket(severity="P3"), "escalated")  # ding does not take escalations
    assert [r.receiver for _, r in routing.routes_for(labels)] == ["mail"]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("receiver: am\n", "receiver: pager\n", 13, "no receiver 'pager'; defined: am, ding, mail"),
        ("interval: 10m", "interval: soon", 18, "group_interval: Value error, 'soon' is not a"),
        ("language: zh", "language: fr", 7, "receivers.1.language: Input should be 'en' or 'zh'"),
        ("email\n", "email\n    secret: x\n", 8, "only dingtalk and feishu receivers sign"),
        (
            'url: "http://127.0.0.1:9093"',
            'url: ""',
            2,
            "a receiver of kind alertmanager needs 'url'",
        ),
        ("to: [b@example.com]", "to: []", 10, "smtp.to: Value error, 'to' is a list of addresses"),
        ("delivery:", "  - [\ndelivery:", 24, "not valid YAML: expected ',' or ']'"),
        ("[opened, resolved]", "[opened, fixed]", 20, "notify_on.1: Input should be 'opened'"),
        ("{rule:", "{rules:", 15, "routes.1.match.rules.[key]: Input should be 'severity'"),
        (
            "  - name: mail\n",
            "  - {name: mail, kind: slack, url: http://x}\n  - name: mail\n",
            9,
            "twice",
        ),
        ('"http://127.0.0.1:9093"', '"127.0.0.1:9093"', 2, "is not an http:// or https:// URL"),
        ('"http://127.0.0.1:9093"', '"file:///etc/passwd"', 2, "is not an http:// or https:// URL"),
        ("[P0, P1]", "[P0, PO]", 12, "severity 'PO' matches none of P0, P1, P2, P3"),
        ("[ding, mail]", "[ding, pager]", 27, "no receiver 'pager'; defined: am, ding, mail"),
        ("[ding, mail]", "[am]", 27, "receiver 'am' is of kind alertmanager, which cannot take"),
        ("Asia/Shanghai", "Asia/Nowhere", 25, "unknown time zone 'Asia/Nowhere'"),
        ("kinds: [daily]", "kinds: [monthly]", 26, "kinds.0: Input should be 'daily' or 'weekly'"),
        ("receivers: [mail]", "receivers: []", 24, "reports.0.receivers: List should have at"),
    ],
)
def test_a_bad_file_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = write(tmp_path / "routes.yaml", GOOD.replace(old, new, 1))
    with pytest.raises(RoutingError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_reports_go_to_the_receivers_of_their_kind_and_zone(tmp_path: Path) -> None:
    routing = load_routing(write(tmp_path / "routes.yaml", GOOD))
    assert routing.report_receivers("daily", "Asia/Shanghai") == ["mail", "ding"]
    assert routing.report_receivers("weekly", "Asia/Shanghai") == ["ding", "mail"]
    assert routing.report_receivers("daily", "UTC") == ["ding", "mail"]
    reports_only = GOOD[: GOOD.index("routes:")] + GOOD[GOOD.index("reports:") :]
    assert load_routing(write(tmp_path / "reports.yaml", reports_only)).routes == []
    neither = GOOD[: GOOD.index("routes:")]
    with pytest.raises(RoutingError, match="needs 'routes' \\(ticket changes\\) or 'reports'"):
        load_routing(write(tmp_path / "neither.yaml", neither))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RoutingError, match="cannot read"):
        load_routing(tmp_path / "nope.yaml")


PAGING = """\
oncall: people/oncall.yaml
receivers:
  - name: page-mail
    kind: email
    smtp: {host: smtp.example.com, from: a@example.com, to: oncall}
  - {name: page-chat, kind: slack, url: "https://hooks.slack.com/x", to_oncall: true}
  - {name: am, kind: alertmanager, url: "http://127.0.0.1:9093"}
routes:
  - {match: {severity: [P0]}, escalation: p0, receiver: am, continue: true}
  - {escalation: p0}
"""


def _paging(tmp_path: Path, text: str) -> Path:
    (tmp_path / "people").mkdir(exist_ok=True)
    write(tmp_path / "people" / "oncall.yaml", EXAMPLE_ONCALL.read_text(encoding="utf-8"))
    return write(tmp_path / "routes.yaml", text)


def test_a_file_with_an_oncall_file_loads_it_relative_to_itself(tmp_path: Path) -> None:
    routing = load_routing(_paging(tmp_path, PAGING))
    assert routing.oncall is not None and list(routing.oncall.chains) == ["p0"]
    assert [r.name for r in routing.oncall_receivers()] == ["page-mail", "page-chat"]
    assert [(r.receiver, r.escalation) for r in routing.routes] == [("am", "p0"), (None, "p0")]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("escalation: p0}\n", "escalation: p9}\n", 10, "no escalation chain 'p9' in the on-call"),
        ("oncall.yaml", "nope.yaml", 1, "oncall: Value error, cannot read the on-call file"),
        ("oncall: people/oncall.yaml\n", "", 8, "an escalation needs an on-call file"),
        ('9093"}', '9093", to_oncall: true}', 7, "kind alertmanager cannot address a person"),
        ("to: oncall}", "to: oncall}\n    to_oncall: true", 3, "email receiver addresses the"),
        ("receiver: am,", "receiver: page-chat,", 9, "'page-chat' addresses the people on call"),
        ("  - {escalation: p0}\n", "  - {}\n", 10, "a route needs a 'receiver', an 'escalation'"),
        (
            PAGING[PAGING.index("  - name: page-mail") : PAGING.index("  - {name: am")],
            "",
            5,
            "no receiver addresses the people on call",
        ),
    ],
)
def test_a_bad_paging_setup_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = _paging(tmp_path, PAGING.replace(old, new, 1))
    with pytest.raises(RoutingError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_a_faulty_oncall_file_is_refused_at_its_own_line(tmp_path: Path) -> None:
    path = _paging(tmp_path, PAGING)
    oncall = tmp_path / "people" / "oncall.yaml"
    write(
        oncall, oncall.read_text(encoding="utf-8").replace("{schedule: ops-follow", "{schedule: x")
    )
    with pytest.raises(ScheduleError, match=f"^{oncall}:\\d+: .*no schedule 'x-the-sun'"):
        load_routing(path)
