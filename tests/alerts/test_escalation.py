"""Escalation chains on a real pipeline, real Redis, a real SMTP server and a webhook: a P0
ticket routed to a chain pages whoever a follow-the-sun schedule has on call (on the 2026
daylight-saving days of Berlin and New York), then the next step after the wait; an
acknowledgement stops it, a breach of the acknowledgement SLA brings the next step forward;
nothing goes twice; a failing receiver is retried without losing
the step."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest

from alerts import Notifier, SilenceStore
from monitor import Runtime
from monitor._ticket_work import acknowledge

from ..monitor.helpers import T0, event
from .helpers import Clock, notifier_on, records, routes_file, write
from .servers import SECRET, HttpReceiver, SmtpReceiver

ONCALL = """\
people:
  - {id: anna, name: Anna Schmidt, contacts: {email: anna@example.com}}
  - id: maria
    name: Maria Lopez
    contacts: {email: maria@example.com, slack: "<@U0MARIA>", dingtalk: maria01, feishu: ou_maria}
  - {id: lead, name: Ops Lead, contacts: {email: lead@example.com}}
schedules:
  - id: sun
    layers:
      - {name: backstop, zone: UTC, rotation: 1w, start: 2026-01-05T00:00, people: [lead]}
      - name: europe
        zone: Europe/Berlin
        rotation: 1w
        start: 2026-01-05T07:00
        people: [anna]
        coverage: [{from: "07:00", to: "15:00"}]
      - name: americas
        zone: America/New_York
        rotation: 1w
        start: 2026-01-05T09:00
        people: [maria]
        coverage: [{from: "09:00", to: "17:00"}]
escalations:
  - id: p0
    steps:
      - {notify: {schedule: sun}, wait: 5m}
      - {notify: {person: lead}, wait: 10m}
  - id: slow
    steps:
      - {notify: {schedule: sun}, wait: 1h}
      - {notify: {person: lead}, wait: 1h}
"""
# A customs hold a day before the promised date: the core pack opens it as P0.
HOLD = event(
    "shipment.customs",
    0,
    shipment_id="X",
    status="held",
    location="FRA",
    promised_by=(T0 + timedelta(days=1)).isoformat(),
)
# 07:30 CEST on Berlin's spring-forward day (06:30 if the change were missed: nobody's window).
BERLIN_MORNING = "2026-03-29T05:30:00+00:00"
# 09:30 EDT on New York's spring-forward day (08:30 EST would leave it to Berlin's window).
NEW_YORK_MORNING = "2026-03-08T13:30:00+00:00"


def _setup(
    runtime: Runtime,
    clock: Clock,
    smtp: SmtpReceiver,
    http: HttpReceiver,
    at: str,
    chain: str = "p0",
) -> Notifier:
    write(routes_file(runtime).parent / "oncall.yaml", ONCALL)
    write(
        routes_file(runtime),
        f"""
oncall: oncall.yaml
receivers:
  - name: page-mail
    kind: email
    smtp: {{host: 127.0.0.1, port: {smtp.port}, from: riskmon@example.com, to: oncall}}
  - {{name: page-hook, kind: webhook, url: "{http.url}/page", to_oncall: true}}
routes:
  - {{match: {{severity: [P0]}}, escalation: {chain}}}
delivery: {{attempts: 3, backoff: 10s, max_backoff: 1m, timeout: 0.3s}}
""",
    )
    clock.now = datetime.fromisoformat(at).timestamp()
    return notifier_on(runtime, clock)


def _to(mails: list[EmailMessage]) -> list[str]:
    return [str(mail["To"]) for mail in mails]


@pytest.mark.parametrize(
    ("at", "first", "name"),
    [
        (BERLIN_MORNING, "anna@example.com", "Anna Schmidt"),
        (NEW_YORK_MORNING, "maria@example.com", "Maria Lopez"),
    ],
)
def test_step_0_pages_whoever_is_on_call_then_the_next_step_follows_the_wait(
    at: str,
    first: str,
    name: str,
    runtime: Runtime,
    clock: Clock,
    smtp_receiver: SmtpReceiver,
    http_receiver: HttpReceiver,
) -> None:
    notifier = _setup(runtime, clock, smtp_receiver, http_receiver, at)
    pipeline = runtime.pipeline(observers=[notifier])
    changes = pipeline.process(records(HOLD))
    assert [(c.ticket.severity, c.change) for c in changes] == [("P0", "opened")]

    assert _to(smtp_receiver.mails) == [first]
    mail = smtp_receiver.mails[0]
    assert str(mail["Subject"]).startswith("[P0] escalation p0 step 1/2: Customs hold: X")
    body = mail.get_content()
    assert "step 1 of 2: notifying whoever is on call for schedule sun" in body
    assert f"On call now: {name}." in body and "riskmon tickets ack" in body
    (hook,) = http_receiver.received
    assert hook.body["page"]["step"] == 0 and hook.body["page"]["people"][0]["name"] == name

    clock.now += 299
    notifier.flush()
    assert len(smtp_receiver.mails) == 1
    clock.now += 1  # step 0's wait is over
    notifier.flush()
    assert _to(smtp_receiver.mails) == [first, "lead@example.com"]
    assert "step 2 of 2: notifying lead.\nOn call now: Ops Lead." in smtp_receiver.mails[
        1
    ].get_content().replace("\r", "")

    clock.now += 3600  # the chain is done
    pipeline.process(records(HOLD))  # a replayed batch: the event was seen
    notifier.enqueue(changes)  # a redelivered batch: the same ticket change again
    notifier.flush()
    notifier.flush()
    assert len(smtp_receiver.mails) == 2 and len(http_receiver.received) == 2
    steps = sorted((e.receiver, e.step) for e in notifier.log.read() if e.kind == "escalation")
    person = first.split("@")[0]
    assert steps == [
        ("page-hook", f"p0 step 1/2 round 1/1: {person}"),
        ("page-hook", "p0 step 2/2 round 1/1: lead"),
        ("page-mail", f"p0 step 1/2 round 1/1: {person}"),
        ("page-mail", "p0 step 2/2 round 1/1: lead"),
    ]


def test_acknowledging_stops_the_chain(
    runtime: Runtime, clock: Clock, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    notifier = _setup(runtime, clock, smtp_receiver, http_receiver, BERLIN_MORNING)
    (change,) = runtime.pipeline(observers=[notifier]).process(records(HOLD))
    assert _to(smtp_receiver.mails) == ["anna@example.com"]
    clock.now += 120
    runtime.tickets.update(change.ticket.id, lambda t: acknowledge(t, by="anna", at=clock.now))
    for _ in range(3):
        clock.now += 600
        notifier.flush()
    assert _to(smtp_receiver.mails) == ["anna@example.com"]
    assert len(http_receiver.received) == 1


def test_a_failing_receiver_is_retried_and_the_step_is_not_lost(
    runtime: Runtime, clock: Clock, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    notifier = _setup(runtime, clock, smtp_receiver, http_receiver, NEW_YORK_MORNING)
    smtp_receiver.refuse.extend(["451 4.3.0 try again later"] * 3)
    started = clock.now
    runtime.pipeline(observers=[notifier]).process(records(HOLD))
    assert smtp_receiver.mails == [] and clock.slept == [10, 20]  # three attempts
    failed = [e for e in notifier.log.read() if e.result == "failed"]
    assert [e.attempt for e in failed] == [3, 2, 1] and all("451" in e.error for e in failed)
    assert {e.step for e in failed} == {"p0 step 1/2 round 1/1: maria"}
    assert len(http_receiver.received) == 1  # the webhook had it at once

    notifier.flush()  # the retry waits for the backoff
    assert smtp_receiver.mails == []
    clock.now += 10
    notifier.flush()
    assert _to(smtp_receiver.mails) == ["maria@example.com"]
    clock.now = started + 300
    notifier.flush()
    notifier.flush()
    assert _to(smtp_receiver.mails) == ["maria@example.com", "lead@example.com"]
    assert len(http_receiver.received) == 2  # each step once per receiver


def test_a_breach_brings_the_next_step_forward_once(
    runtime: Runtime, clock: Clock, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    notifier = _setup(runtime, clock, smtp_receiver, http_receiver, BERLIN_MORNING, "slow")
    pipeline = runtime.pipeline(observers=[notifier])
    pipeline.process(records(HOLD))
    assert _to(smtp_receiver.mails) == ["anna@example.com"]
    clock.now += 16 * 60
    late = pipeline.advance(T0.timestamp() + 16 * 60)  # P0: acknowledge within 15 minutes
    assert "breached" in {change.change for change in late}
    assert _to(smtp_receiver.mails) == ["anna@example.com", "lead@example.com"]  # not at 1 h

    notifier.enqueue(late)  # the breach redelivered: the chain does not skip another step
    for _ in range(4):
        clock.now += 1800
        notifier.flush()
    assert _to(smtp_receiver.mails) == ["anna@example.com", "lead@example.com"]
    assert len(http_receiver.received) == 2


def test_a_silenced_ticket_pages_nobody_and_its_steps_are_logged(
    runtime: Runtime, clock: Clock, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    notifier = _setup(runtime, clock, smtp_receiver, http_receiver, BERLIN_MORNING)
    silences = SilenceStore(runtime.client, runtime.settings.redis_prefix)
    silence = silences.add(
        {"rule": ["customs.hold"]},
        starts=clock.now,
        ends=clock.now + 3600,
        author="ana",
        comment="customs broker outage, handled by phone",
    )
    runtime.pipeline(observers=[notifier]).process(records(HOLD))
    clock.now += 300
    notifier.flush()
    assert smtp_receiver.mails == [] and http_receiver.received == []
    steps = [e for e in notifier.log.read() if e.kind == "escalation"]
    assert {(e.result, e.error) for e in steps} == {("silenced", silence.id)}
    assert sorted({e.step.split(":")[0] for e in steps}) == ["p0 step 1/2 round 1/1",
                                                             "p0 step 2/2 round 1/1"]  # fmt: skip


def test_chat_receivers_mention_whoever_is_on_call(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    write(routes_file(runtime).parent / "oncall.yaml", ONCALL)
    url = http_receiver.url
    write(
        routes_file(runtime),
        f"""
oncall: oncall.yaml
receivers:
  - {{name: slack, kind: slack, url: "{url}/slack", to_oncall: true}}
  - name: ding
    kind: dingtalk
    url: "{url}/dingtalk?access_token=t"
    secret: {SECRET}
    to_oncall: true
  - {{name: lark, kind: feishu, url: "{url}/feishu", secret: {SECRET}, to_oncall: true}}
routes:
  - {{match: {{severity: [P0]}}, escalation: p0}}
""",
    )
    clock.now = datetime.fromisoformat(NEW_YORK_MORNING).timestamp()  # Maria's shift
    runtime.pipeline(observers=[notifier_on(runtime, clock)]).process(records(HOLD))
    got = {hook.path: hook for hook in http_receiver.received}
    assert set(got) == {"/slack", "/dingtalk", "/feishu"}
    assert got["/slack"].body["blocks"][-1]["text"]["text"] == "<@U0MARIA>"
    ding = got["/dingtalk"]
    assert ding.signed and ding.body["at"]["atUserIds"] == ["maria01"]
    assert "@maria01" in ding.body["text"]["content"]
    lark = got["/feishu"]
    assert lark.signed and '<at user_id="ou_maria"></at>' in lark.body["content"]["text"]
