"""Posting JSON over HTTP for the receivers, with httpx errors translated to ``DeliveryError``."""

from __future__ import annotations

from typing import Any

import httpx

from .._errors import DeliveryError
from .._routing import ReceiverConfig

# Worth another try: the server is overloaded, rate-limiting or timed out on its side.
_RETRYABLE_STATUS = frozenset({408, 425, 429})


class HttpReceiver:
    """What every HTTP receiver keeps of its configuration: URL, robot secret, name, timeout."""

    def __init__(self, config: ReceiverConfig, *, timeout: float) -> None:
        assert config.url is not None  # the routing file's check
        self._url = config.url
        self._secret = config.secret
        self._name = config.name
        self._timeout = timeout


def post_json(
    url: str, payload: Any, *, timeout: float, params: dict[str, str] | None = None
) -> httpx.Response:
    """POST ``payload`` as JSON, ``params`` added to the URL's own query (a robot URL carries
    its token there); ``DeliveryError`` unless the answer is a 2xx.

    Errors name the URL without its query, which may carry a token.
    """
    where = _redacted(url)
    try:
        target = httpx.URL(url).copy_merge_params(params) if params else url
        response = httpx.post(target, json=payload, timeout=timeout)
    except httpx.TimeoutException:
        raise DeliveryError(f"{where}: no answer within {timeout:g}s", retryable=True) from None
    except httpx.TransportError as error:
        raise DeliveryError(f"{where}: {error}", retryable=True) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise DeliveryError(f"{where}: {error}", retryable=False) from None
    if not response.is_success:
        status = response.status_code
        raise DeliveryError(
            f"{where}: HTTP {status} {response.text[:200]}".rstrip(),
            retryable=status >= 500 or status in _RETRYABLE_STATUS,
        )
    return response


def reply_field(response: httpx.Response, *names: str) -> Any:
    """The first of ``names`` in a JSON reply (robot APIs report errors in the body), else 0."""
    try:
        body = response.json()
    except ValueError:
        return 0
    return next((body[name] for name in names if isinstance(body, dict) and name in body), 0)


def _redacted(url: str) -> str:
    try:
        return str(httpx.URL(url).copy_with(query=None))
    except httpx.InvalidURL:
        return "(invalid URL)"
