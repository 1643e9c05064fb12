"""Slack incoming webhook: a header block and one section per notification (a report: one
section with its summary); an escalation step mentions the Slack handles of the people it
reaches, as their contacts give them (``<@U024BE7LH>``)."""

from __future__ import annotations

from .._messages import Message
from ._http import HttpReceiver, post_json

_HEADER_LIMIT = 150  # Slack refuses longer header texts
_SECTION_LIMIT = 3000
_BLOCK_LIMIT = 50


class SlackReceiver(HttpReceiver):
    """POSTs ``{"text": ..., "blocks": [...]}`` to an incoming-webhook URL."""

    def send(self, message: Message) -> None:
        blocks: list[dict[str, object]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": message.title[:_HEADER_LIMIT]},
            }
        ]
        texts = [item.text for item in message.items] or [message.text]
        if message.page is not None:  # its text says the step and who is on call
            handles = " ".join(message.page.contacts("slack"))
            texts = [message.text, handles] if handles else [message.text]
        for text in texts[: _BLOCK_LIMIT - 1]:
            section = {"type": "mrkdwn", "text": text[:_SECTION_LIMIT]}
            blocks.append({"type": "section", "text": section})
        post_json(self._url, {"text": message.title, "blocks": blocks}, timeout=self._timeout)
