"""Feishu/Lark custom bot, signed: ``timestamp`` (s) and ``sign`` in the JSON body, where
sign = base64(HmacSHA256(key="timestamp\\nsecret", empty message)). An escalation step
@-mentions the Feishu user ids (``ou_…``) of the people it reaches (``<at user_id=…>``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from .._errors import DeliveryError
from .._messages import Message
from ._http import HttpReceiver, post_json, reply_field

# code values that say "later": flow control (sending too fast).
_RETRYABLE_CODES = frozenset({11232})


def feishu_sign(timestamp: int, secret: str) -> str:
    """Feishu's signature of a request made at ``timestamp`` (seconds)."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuReceiver(HttpReceiver):
    """POSTs a text message; Feishu reports faults in ``code`` (older bots: ``StatusCode``)."""

    def send(self, message: Message) -> None:
        text = f"{message.title}\n\n{message.text}"
        if message.page is not None:
            text += "".join(f' <at user_id="{u}"></at>' for u in message.page.contacts("feishu"))
        payload: dict[str, object] = {"msg_type": "text", "content": {"text": text}}
        if self._secret:
            now = int(time.time())
            payload |= {"timestamp": str(now), "sign": feishu_sign(now, self._secret)}
        response = post_json(self._url, payload, timeout=self._timeout)
        code = reply_field(response, "code", "StatusCode")
        if code != 0:
            error = reply_field(response, "msg", "StatusMessage")
            raise DeliveryError(f"Feishu code {code}: {error}", retryable=code in _RETRYABLE_CODES)
