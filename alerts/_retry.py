"""Retrying a delivery: bounded attempts with exponential backoff, each attempt reported."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._errors import DeliveryError
from ._messages import Message
from ._routing import Delivery
from .receivers import Receiver


def backoff(policy: Delivery, failures: int) -> float:
    """The pause after ``failures`` consecutive failures: doubling, at most ``max_backoff``."""
    return float(min(policy.backoff * 2 ** max(failures - 1, 0), policy.max_backoff))


def longest(policy: Delivery) -> float:
    """How long one delivery with all its retries may take, and a margin: what a lock held
    over it must outlast."""
    return policy.attempts * (policy.timeout + policy.max_backoff) + 60


def deliver(
    receiver: Receiver,
    message: Message,
    *,
    policy: Delivery,
    sleep: Callable[[float], None],
    record: Callable[[int, DeliveryError | None, float], None],
) -> DeliveryError | None:
    """Send ``message``, trying again after retryable failures up to ``policy.attempts`` in all;
    ``record`` hears each attempt's number, error (``None``: sent) and wall time in seconds.
    Returns the last error, or ``None`` once sent."""
    attempt = 1
    while True:
        started = time.perf_counter()
        try:
            receiver.send(message)
        except DeliveryError as error:
            record(attempt, error, time.perf_counter() - started)
            if not error.retryable or attempt >= policy.attempts:
                return error
            sleep(backoff(policy, attempt))
            attempt += 1
        else:
            record(attempt, None, time.perf_counter() - started)
            return None
