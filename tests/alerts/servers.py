"""Real receivers on loopback for the alert tests: an HTTP server that records what it is
sent (and checks DingTalk's and Feishu's signatures on its own), and an SMTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

SECRET = "SEC-test-secret-0123456789"


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One request the HTTP server got."""

    path: str
    query: dict[str, str]
    body: Any
    signed: bool | None  # None: the path asks for no signature check


@dataclass
class Answer:
    """How to answer the next request: status, JSON body, and a delay before answering."""

    status: int = 200
    body: Any = field(default_factory=lambda: {"errcode": 0, "code": 0})
    delay: float = 0.0


class HttpReceiver:
    """A threaded HTTP server on loopback; ``answers`` queues answers (default: 200 OK).

    Paths starting ``/dingtalk`` and ``/feishu`` have their signatures checked with
    ``SECRET`` the way each service documents it, and refused like the service would.
    """

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.answers: deque[Answer] = deque()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                split = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                answer = owner.answers.popleft() if owner.answers else Answer()
                signed = _check_signature(split.path, query, body)
                if signed is False:
                    answer = _refusal(split.path)
                owner.received.append(Received(split.path, query, body, signed))
                time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (timeout tests)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _check_signature(path: str, query: dict[str, str], body: Any) -> bool | None:
    if path.startswith("/dingtalk"):
        # DingTalk: sign = urlencode(base64(HmacSHA256(secret, "timestamp\nsecret"))), ms.
        stamp = query.get("timestamp", "")
        text = f"{stamp}\n{SECRET}".encode()
        digest = hmac.new(SECRET.encode(), text, hashlib.sha256).digest()
        fresh = stamp.isdigit() and abs(time.time() * 1000 - int(stamp)) < 3_600_000
        return fresh and query.get("sign") == base64.b64encode(digest).decode()
    if path.startswith("/feishu"):
        # Feishu: sign = base64(HmacSHA256(key="timestamp\nsecret", message="")), seconds.
        stamp = str(body.get("timestamp", ""))
        key = f"{stamp}\n{SECRET}".encode()
        digest = hmac.new(key, b"", hashlib.sha256).digest()
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 3600
        return fresh and body.get("sign") == base64.b64encode(digest).decode()
    return None


def _refusal(path: str) -> Answer:
    if path.startswith("/dingtalk"):
        return Answer(200, {"errcode": 310000, "errmsg": "sign not match"})
    return Answer(
        200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
    )


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on loopback; ``refuse`` makes it answer DATA with a code."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.refuse: deque[str] = deque()
        owner = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if owner.refuse:
                    return owner.refuse.popleft()
                mail = message_from_bytes(envelope.content, policy=policy.default)
                owner.mails.append(mail)  # type: ignore[arg-type]  # policy.default gives EmailMessage
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self._controller.start()
        self.port = self._controller.port

    def close(self) -> None:
        self._controller.stop()
