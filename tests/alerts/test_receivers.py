"""Every receiver against a real server on loopback: it delivers, signs where the service
asks for it, and says whether a failure is worth a retry (the one receiver contract)."""

from __future__ import annotations

import httpx
import pytest

from alerts import DeliveryError, Receiver, build_receiver, compose, notify
from monitor import Change

from .helpers import URL, message, receiver_config, ticket
from .servers import SECRET, Answer, HttpReceiver, SmtpReceiver, free_port

HTTP_KINDS = {
    "webhook": "/hook",
    "slack": "/services/T000/B000/XXX",
    "dingtalk": "/dingtalk/robot/send?access_token=tok",
    "feishu": "/feishu/open-apis/bot/v2/hook/abc",
}


def _http(kind: str, base: str, timeout: float = 2.0) -> Receiver:
    secret = {"secret": SECRET} if kind in ("dingtalk", "feishu") else {}
    return build_receiver(
        receiver_config(kind, url=base + HTTP_KINDS[kind], **secret), timeout=timeout
    )


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_http_receivers_deliver_and_sign(kind: str, http_receiver: HttpReceiver) -> None:
    _http(kind, http_receiver.url).send(message())
    (got,) = http_receiver.received
    text = str(got.body)
    assert "Stock out: W1 S1" in text and URL.format(id="T-test0001") in text
    assert "2023-11-14 22:43 UTC" in text  # the acknowledge SLA due time
    if kind in ("dingtalk", "feishu"):
        assert got.signed is True
    if kind == "dingtalk":
        assert got.query["access_token"] == "tok" and got.body["msgtype"] == "text"
    if kind == "slack":
        assert (
            got.body["text"].startswith("[P1] opened") and got.body["blocks"][0]["type"] == "header"
        )
    if kind == "webhook":
        (notification,) = got.body["notifications"]
        assert notification["ticket"]["id"] == "T-test0001" and notification["change"] == "opened"


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_and_not_retried(kind: str, http_receiver: HttpReceiver) -> None:
    config = receiver_config(kind, url=http_receiver.url + HTTP_KINDS[kind], secret="wrong")
    with pytest.raises(DeliveryError) as caught:
        build_receiver(config, timeout=2).send(message())
    assert not caught.value.retryable and http_receiver.received[0].signed is False


def test_chinese_text_by_the_receivers_language(http_receiver: HttpReceiver) -> None:
    config = receiver_config("webhook", url=http_receiver.url, language="zh")
    build_receiver(config, timeout=2).send(message("zh"))
    assert "确认截止" in http_receiver.received[0].body["text"]


@pytest.mark.parametrize("kind", HTTP_KINDS)
@pytest.mark.parametrize(
    ("answer", "retryable"),
    [(Answer(500, {}), True), (Answer(429, {}), True), (Answer(400, {}), False)],
)
def test_http_failures_say_whether_to_retry(
    kind: str, answer: Answer, retryable: bool, http_receiver: HttpReceiver
) -> None:
    http_receiver.answers.append(answer)
    with pytest.raises(DeliveryError) as caught:
        _http(kind, http_receiver.url).send(message())
    assert caught.value.retryable is retryable
    assert "access_token" not in str(caught.value)  # tokens stay out of logs


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_refused_connections_and_timeouts_are_retryable(
    kind: str, http_receiver: HttpReceiver
) -> None:
    with pytest.raises(DeliveryError) as refused:
        _http(kind, f"http://127.0.0.1:{free_port()}").send(message())
    http_receiver.answers.append(Answer(delay=0.6))
    with pytest.raises(DeliveryError) as slow:
        _http(kind, http_receiver.url, timeout=0.2).send(message())
    assert refused.value.retryable and slow.value.retryable
    assert "no answer within 0.2s" in str(slow.value)


def _email(port: int) -> Receiver:
    smtp = {"host": "127.0.0.1", "port": port, "from": "riskmon@example.com",
            "to": ["oncall@example.com", "lead@example.com"]}  # fmt: skip
    return build_receiver(receiver_config("email", smtp=smtp, language="zh"), timeout=2)


def test_email_over_smtp(smtp_receiver: SmtpReceiver) -> None:
    _email(smtp_receiver.port).send(message("zh"))
    (mail,) = smtp_receiver.mails
    assert mail["Subject"] == "[P1] 新工单：Stock out: W1 S1"
    assert mail["To"] == "oncall@example.com, lead@example.com"
    body = mail.get_content()
    assert URL.format(id="T-test0001") in body and "处理建议" in body


def test_email_failures_say_whether_to_retry(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.refuse.extend(["451 4.3.0 try again later", "554 5.6.0 rejected"])
    with pytest.raises(DeliveryError) as busy:
        _email(smtp_receiver.port).send(message())
    with pytest.raises(DeliveryError) as rejected:
        _email(smtp_receiver.port).send(message())
    with pytest.raises(DeliveryError) as refused:
        _email(free_port()).send(message())
    assert busy.value.retryable and not rejected.value.retryable and refused.value.retryable
    assert smtp_receiver.mails == []


def _active(alertmanager: str, ticket_id: str) -> list[dict[str, object]]:
    params = {"filter": f'ticket="{ticket_id}"'}
    return httpx.get(f"{alertmanager}/api/v2/alerts", params=params, timeout=5).json()


def test_alertmanager_shows_the_alert_active_then_resolved(alertmanager: str) -> None:
    receiver = build_receiver(receiver_config("alertmanager", url=alertmanager), timeout=5)
    receiver.send(message(number=41))
    (alert,) = _active(alertmanager, "T-test0041")
    assert alert["status"]["state"] == "active"  # type: ignore[index]
    assert alert["labels"] == {
        "alertname": "stock.out",
        "severity": "P1",
        "team": "inventory",
        "rule": "stock.out",
        "ticket": "T-test0041",
    }
    assert alert["generatorURL"] == URL.format(id="T-test0041")
    assert "Stock out: W1 S41" in alert["annotations"]["summary"]  # type: ignore[index]
    ended = 1_700_003_600.0
    history = (*ticket(41).history, Change(ended, "engine", "resolved", "back in stock"))
    resolved = ticket(41, status="resolved", resolved_at=ended, history=history)
    receiver.send(compose([notify(resolved, "resolved")], language="en", ticket_url=URL))
    assert _active(alertmanager, "T-test0041") == []
