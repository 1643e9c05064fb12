"""Generic JSON webhook: every notification with its ticket, link and text; for a patrol
report, no notifications and the report's summary (id, period, zone, key figures); for an
escalation step, the step and the people it reaches with their contacts (``page``)."""

from __future__ import annotations

from .._messages import Message
from ._http import HttpReceiver, post_json


class WebhookReceiver(HttpReceiver):
    """POSTs ``{"version", "receiver", "title", "text", "notifications": [...]}``, with
    ``"report": {...}`` added for a report and ``"page": {...}`` for an escalation step."""

    def send(self, message: Message) -> None:
        payload: dict[str, object] = {
            "version": "1",
            "receiver": self._name,
            "title": message.title,
            "text": message.text,
            "notifications": [
                {
                    "id": item.notification.id,
                    "change": item.notification.change,
                    "at": item.notification.at,
                    "link": item.link,
                    "text": item.text,
                    "ticket": item.notification.ticket,
                }
                for item in message.items
            ],
        }
        if message.report is not None:
            payload["report"] = message.report.summary
        if message.page is not None:
            payload["page"] = message.page.to_json()
        post_json(self._url, payload, timeout=self._timeout)
