"""The notifier on a real pipeline, real Redis and real receivers: routing with ``continue``,
grouping, reminders, silences, retries after failures, never a duplicate, and its metrics."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client import CollectorRegistry

from alerts import AlertsError, Notifier, NotifierMetrics, SilenceStore, notifier_for
from monitor import Runtime, Ticket
from monitor._ticket_work import acknowledge, resolve

from ..monitor.helpers import event
from .helpers import URL, Clock, notifier_on, records, routes_file, write
from .servers import SECRET, Answer, HttpReceiver, SmtpReceiver, free_port

STREAM = (
    event("stock.level", 0, sku="S1", warehouse="W1", on_hand=0, safety_threshold=5),
    event("stock.level", 0.2, sku="S2", warehouse="W1", on_hand=2, safety_threshold=5),
    event("shipment.customs", 1, shipment_id="X", status="held", location="FRA"),
)
DELIVERY = "delivery: {attempts: 3, backoff: 10s, max_backoff: 1m, timeout: 0.3s}\n"


def _sent(notifier: Notifier) -> Counter[tuple[str, str, str]]:
    return Counter(
        (e.receiver, e.ticket, e.change) for e in notifier.log.read() if e.result == "sent"
    )


def test_every_receiver_gets_its_changes_once(
    runtime: Runtime,
    clock: Clock,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    alertmanager: str,
) -> None:
    write(
        routes_file(runtime),
        f"""
receivers:
  - {{name: am, kind: alertmanager, url: "{alertmanager}"}}
  - name: ding
    kind: dingtalk
    url: {http_receiver.url}/dingtalk/robot/send?access_token=tok
    secret: {SECRET}
    language: zh
  - name: mail
    kind: email
    smtp: {{host: 127.0.0.1, port: {smtp_receiver.port}, from: rm@example.com, to: [i@example.com]}}
  - {{name: hook, kind: webhook, url: "{http_receiver.url}/hook"}}
routes:
  - {{match: {{severity: [P0, P1]}}, receiver: am, continue: true, group_by: [ticket]}}
  - {{match: {{rule: "stock.*"}}, receiver: ding, continue: true}}
  - {{match: {{team: inventory}}, receiver: mail}}
  - {{receiver: hook}}
{DELIVERY}""",
    )
    notifier = notifier_on(runtime, clock)
    pipeline = runtime.pipeline(observers=[notifier])
    changes = pipeline.process(records(*STREAM))

    sent = _sent(notifier)
    by_rule = {t.rule: t.id for t in runtime.tickets.all()}
    out, low, held = by_rule["stock.out"], by_rule["stock.below-safety"], by_rule["customs.hold"]
    assert sent == Counter(
        {
            ("am", out, "opened"): 1,
            ("am", out, "sla-warning"): 1,  # 80 % of the 30 minutes to acknowledge, event time
            ("am", out, "breached"): 1,  # not acknowledged within 30 minutes of event time
            ("am", held, "opened"): 1,
            ("ding", out, "opened"): 1,
            ("ding", out, "sla-warning"): 1,
            ("ding", out, "breached"): 1,
            ("ding", low, "opened"): 1,
            ("mail", out, "opened"): 1,
            ("mail", out, "sla-warning"): 1,
            ("mail", out, "breached"): 1,
            ("mail", low, "opened"): 1,
            ("hook", held, "opened"): 1,
        }
    )
    ding = [r for r in http_receiver.received if r.path.startswith("/dingtalk")]
    assert len(ding) == 2 and all(r.signed for r in ding)  # one message per rule (group_by)
    assert "新工单" in str(ding[0].body) and "确认截止" in str(ding[0].body)  # zh receiver
    assert len(smtp_receiver.mails) == 2
    (hook,) = [r for r in http_receiver.received if r.path == "/hook"]
    assert hook.body["notifications"][0]["link"] == URL.format(id=held)

    requests, mails = len(http_receiver.received), len(smtp_receiver.mails)
    clock.now += 3600  # every group interval has passed: anything queued would go now
    replay = runtime.pipeline(observers=[notifier])
    replay.process(records(*STREAM))  # a replayed batch: the events were seen
    notifier.enqueue(changes)  # a redelivered batch: the same ticket changes again
    notifier.flush()
    assert (len(http_receiver.received), len(smtp_receiver.mails)) == (requests, mails)
    assert _sent(notifier) == sent


def _hook_routes(runtime: Runtime, url: str, route: str = "") -> None:
    write(
        routes_file(runtime),
        f"""
receivers:
  - {{name: hook, kind: webhook, url: "{url}/hook"}}
routes:
  - {{receiver: hook{route}}}
{DELIVERY}""",
    )


def _stock_out(hours: float, sku: str, warehouse: str = "W1") -> dict[str, object]:
    return event("stock.level", hours, sku=sku, warehouse=warehouse, on_hand=0, safety_threshold=5)


def _tickets_in(received: HttpReceiver) -> list[list[tuple[str, str]]]:
    return [
        [(n["ticket"]["dedup_key"], n["change"]) for n in r.body["notifications"]]
        for r in received.received
    ]


def test_one_message_per_group_per_interval(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    _hook_routes(runtime, http_receiver.url, ", group_by: [rule], group_interval: 5m")
    notifier = notifier_on(runtime, clock)
    pipeline = runtime.pipeline(observers=[notifier])
    pipeline.process(records(_stock_out(0, "S1")))  # first of its group: at once
    clock.now += 60
    pipeline.process(records(_stock_out(0.1, "S2")))
    clock.now += 60
    pipeline.process(records(_stock_out(0.2, "S3", "W2")))  # a third at W1: a site outage
    assert _tickets_in(http_receiver) == [[("W1|S1", "opened")]]
    clock.now += 181  # five minutes after the first message
    notifier.flush()
    assert _tickets_in(http_receiver)[1:] == [[("W1|S2", "opened"), ("W2|S3", "opened")]]
    clock.now += 3600
    notifier.flush()
    assert len(http_receiver.received) == 2


def test_unacknowledged_tickets_are_repeated_until_acknowledged(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    _hook_routes(runtime, http_receiver.url, ", repeat_interval: 1h")
    notifier = notifier_on(runtime, clock)
    runtime.pipeline(observers=[notifier]).process(
        records(_stock_out(0, "S1"), _stock_out(0, "S2"))
    )
    clock.now += 3599
    notifier.flush()
    assert len(http_receiver.received) == 1
    clock.now += 1
    notifier.flush()
    assert sorted(_tickets_in(http_receiver)[1]) == [("W1|S1", "repeated"), ("W1|S2", "repeated")]
    (first,) = [t for t in runtime.tickets.all() if t.dedup_key == "W1|S1"]
    runtime.tickets.update(first.id, lambda t: acknowledge(t, by="ana", at=clock.now))
    clock.now += 3600
    notifier.flush()
    assert _tickets_in(http_receiver)[2] == [("W1|S2", "repeated")]
    assert "Still waiting" in http_receiver.received[2].body["text"]
    notifier.flush()
    assert len(http_receiver.received) == 3


def test_silenced_changes_are_logged_not_sent(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    _hook_routes(runtime, http_receiver.url, ", group_by: [ticket], group_interval: 0s")
    notifier = notifier_on(runtime, clock)
    silences = SilenceStore(runtime.client, runtime.settings.redis_prefix)
    silence = silences.add(
        {"rule": ["stock.*"], "source": ["te*"]},
        starts=clock.now,
        ends=clock.now + 7200,
        author="ana",
        comment="stock count in W1",
    )
    pipeline = runtime.pipeline(observers=[notifier])
    pipeline.process(records(_stock_out(0, "S1"), STREAM[2]))
    assert _tickets_in(http_receiver) == [[("X", "opened")]]
    silenced = [e for e in notifier.log.read() if e.result == "silenced"]
    assert sorted((e.change, e.error) for e in silenced) == [
        ("breached", silence.id),
        ("opened", silence.id),
        ("sla-warning", silence.id),
    ]
    silences.expire(silence.id[:6], clock.now)
    clock.now += 60
    pipeline.process(records(_stock_out(2, "S2")))
    later = {pair for message in _tickets_in(http_receiver)[1:] for pair in message}
    expected = {("W1|S2", "opened"), ("X", "sla-warning"), ("X", "breached")}
    assert later == expected  # S1's changes stay silenced


@pytest.mark.parametrize("failure", ["refused", "HTTP 500", "timeout"])
def test_a_failing_receiver_is_retried_logged_and_recovers_without_duplicates(
    failure: str, runtime: Runtime, clock: Clock
) -> None:
    port = free_port()
    server = None if failure == "refused" else HttpReceiver(port)
    answer = Answer(500, {}) if failure == "HTTP 500" else Answer(delay=0.5)
    if server is not None:
        server.answers.extend([answer] * 6)
    _hook_routes(runtime, f"http://127.0.0.1:{port}", ", group_by: []")
    notifier = notifier_on(runtime, clock)
    try:
        runtime.pipeline(observers=[notifier]).process(records(*STREAM))
        assert clock.slept == [10, 20]  # three attempts, backoff doubling
        notifier.flush()  # the next try waits for the backoff
        failed = [e for e in notifier.log.read() if e.result == "failed"]
        assert len(failed) == 3 * 5 and {e.attempt for e in failed} == {1, 2, 3}
        assert all(e.error for e in failed) and _sent(notifier) == Counter()
        clock.now += 10  # past the backoff: three more attempts, still down
        notifier.flush()
        assert len([e for e in notifier.log.read() if e.result == "failed"]) == 6 * 5
        if server is None:
            server = HttpReceiver(port)  # the receiver comes back
        clock.now += 60
        notifier.flush()
        notifier.flush()
        ok = [r for r in server.received if r.path == "/hook"][-1]
        assert sorted(n["change"] for n in ok.body["notifications"]) == [
            "breached",
            "opened",
            "opened",
            "opened",
            "sla-warning",
        ]
        assert sum(_sent(notifier).values()) == 5 and set(_sent(notifier).values()) == {1}
        clock.now += 7200
        notifier.flush()
        assert len(server.received) == (1 if failure == "refused" else 7)
    finally:
        if server is not None:
            server.close()


def test_metrics_count_attempts_and_silences_by_receiver(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    _hook_routes(runtime, http_receiver.url, ", group_by: [ticket], group_interval: 0s")
    http_receiver.answers.append(Answer(503, {}))  # the first message fails once
    registry = CollectorRegistry()
    notifier = notifier_on(runtime, clock, NotifierMetrics(registry))
    SilenceStore(runtime.client, runtime.settings.redis_prefix).add(
        {"rule": ["stock.*"]}, starts=clock.now, ends=clock.now + 7200, author="a", comment="b"
    )
    runtime.pipeline(observers=[notifier]).process(records(_stock_out(0, "S1"), STREAM[2]))

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"receiver": "hook", "kind": "ticket", **labels})

    counts = Counter(entry.result for entry in notifier.log.read())
    assert counts["failed"] == 1 and counts["sent"] >= 1 and counts["silenced"] >= 2
    for result in ("sent", "failed", "silenced"):
        assert sample("riskmon_notifications_total", result=result) == counts[result]
    attempts = len(http_receiver.received)  # one request per attempt, the failed one too
    assert sample("riskmon_notification_delivery_seconds_count") == attempts
    assert 0 < (sample("riskmon_notification_delivery_seconds_sum") or 0) < 1


def test_the_settings_name_the_routing_file(runtime: Runtime, http_receiver: HttpReceiver) -> None:
    _hook_routes(runtime, http_receiver.url)
    registry = CollectorRegistry()
    notifier = notifier_for(runtime, registry=registry)
    assert notifier is not None
    runtime.pipeline(observers=[notifier]).process(records(STREAM[2]))
    assert _tickets_in(http_receiver) == [[("X", "opened")]]
    labels = {"receiver": "hook", "kind": "ticket", "result": "sent"}
    assert registry.get_sample_value("riskmon_notifications_total", labels) == 1
    settings = runtime.settings.model_copy(update={"routes_file": None})
    assert (
        notifier_for(Runtime(settings, runtime.client, runtime.tickets, runtime.dead_letters))
        is None
    )


def test_suppressed_tickets_are_not_told_until_their_parent_resolves(
    runtime: Runtime, clock: Clock, http_receiver: HttpReceiver
) -> None:
    _hook_routes(runtime, http_receiver.url, ", group_by: [ticket]")
    notifier = notifier_on(runtime, clock)
    pipeline = runtime.pipeline(observers=[notifier])
    out = {"warehouse": "W9", "on_hand": 0, "safety_threshold": 5}
    pipeline.process(records(*(event("stock.level", 0, sku=f"S{n}", **out) for n in range(4))))
    (outage,) = [t for t in runtime.tickets.all() if t.rule == "stock.site-outage"]
    children = [t for t in runtime.tickets.all() if t.suppressed_by == outage.id]
    assert len(children) == 4  # the site outage explains every stock-out of the batch
    told = {(e.ticket, e.change) for e in notifier.log.read() if e.result == "sent"}
    assert not {e for e in told if e[0] in {child.id for child in children}}

    def fixed(ticket: Ticket) -> Ticket:
        return resolve(ticket, by="ops", at=clock.now, root_cause="fire", action_taken="moved")

    changes = runtime.tickets.update(outage.id, fixed)
    assert {c.ticket.id for c in changes if c.change == "unsuppressed"} == {c.id for c in children}
    notifier.enqueue(changes)  # as `riskmon tickets resolve` tells the alerts
    clock.now += 3600
    notifier.flush()
    told = {(e.ticket, e.change) for e in notifier.log.read() if e.result == "sent"}
    assert {(child.id, "opened") for child in children} <= told


def test_a_silence_that_could_mute_nothing_is_refused(runtime: Runtime, clock: Clock) -> None:
    silences = SilenceStore(runtime.client, runtime.settings.redis_prefix)
    for matchers in ({"severity": ["PO"]}, {"change": ["opend"]}):
        with pytest.raises(AlertsError, match="matches none of"):
            silences.add(matchers, starts=clock.now, ends=clock.now + 60, author="a", comment="c")
    assert silences.all() == []
