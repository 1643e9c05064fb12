"""DingTalk custom robot, signed: ``timestamp`` (ms) and ``sign`` as query parameters, where
sign = base64(HmacSHA256(key=secret, "timestamp\\nsecret")) (httpx URL-encodes it). An
escalation step @-mentions the DingTalk user ids of the people it reaches (``at.atUserIds``,
and ``@id`` in the text, which DingTalk needs to show the mention)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from .._errors import DeliveryError
from .._messages import Message
from ._http import HttpReceiver, post_json, reply_field

# errcode values that say "later": system busy, sending too fast.
_RETRYABLE_CODES = frozenset({-1, 130101})


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's signature of a request made at ``timestamp_ms``."""
    text = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest()).decode()


class DingTalkReceiver(HttpReceiver):
    """POSTs a text message; DingTalk answers HTTP 200 and reports faults in ``errcode``."""

    def send(self, message: Message) -> None:
        params = None
        if self._secret:
            now = int(time.time() * 1000)
            params = {"timestamp": str(now), "sign": dingtalk_sign(now, self._secret)}
        users = message.page.contacts("dingtalk") if message.page else []
        content = f"{message.title}\n\n{message.text}" + "".join(f" @{u}" for u in users)
        payload = {"msgtype": "text", "text": {"content": content}, "at": {"atUserIds": users}}
        response = post_json(self._url, payload, timeout=self._timeout, params=params)
        code = reply_field(response, "errcode")
        if code != 0:
            error = reply_field(response, "errmsg")
            raise DeliveryError(
                f"DingTalk errcode {code}: {error}", retryable=code in _RETRYABLE_CODES
            )
