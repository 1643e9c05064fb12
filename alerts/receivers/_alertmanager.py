"""Prometheus Alertmanager's v2 API: each notification becomes one alert (POST /api/v2/alerts);
a resolved ticket's alert carries ``endsAt``."""

from __future__ import annotations

from monitor import iso

from .._messages import Item, Message
from .._routing import ReceiverConfig
from ._http import post_json


class AlertmanagerReceiver:
    """POSTs the alerts of a message to an Alertmanager at ``url`` (its base address)."""

    def __init__(self, config: ReceiverConfig, *, timeout: float) -> None:
        assert config.url is not None  # the routing file's check
        self._url = config.url.rstrip("/") + "/api/v2/alerts"
        self._timeout = timeout

    def send(self, message: Message) -> None:
        post_json(self._url, [alert(item) for item in message.items], timeout=self._timeout)


def alert(item: Item) -> dict[str, object]:
    """The Alertmanager alert for one notification."""
    notification = item.notification
    ticket = notification.ticket
    document: dict[str, object] = {
        "labels": {
            "alertname": ticket["rule"],
            "severity": ticket["severity"],
            "team": ticket["team"],
            "rule": ticket["rule"],
            "ticket": ticket["id"],
        },
        "annotations": {
            "summary": ticket["title"],
            "description": item.text,
            "acknowledge_due": ticket["acknowledge_due"],
            "resolve_due": ticket["resolve_due"],
        },
        "startsAt": iso(notification.started),
        "generatorURL": item.link,
    }
    if notification.change == "resolved":
        document["endsAt"] = iso(max(notification.at, notification.started))
    return document
