"""Receivers: one table from kind to constructor, and the one contract they share.

Each kind's constructor takes its ``ReceiverConfig`` and a per-request ``timeout``; ``send``
delivers a message or raises ``DeliveryError`` saying whether a retry can help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .._messages import Message
from .._routing import Kind, ReceiverConfig, Routing
from ._alertmanager import AlertmanagerReceiver
from ._dingtalk import DingTalkReceiver, dingtalk_sign
from ._email import EmailReceiver
from ._feishu import FeishuReceiver, feishu_sign
from ._slack import SlackReceiver
from ._webhook import WebhookReceiver


class Receiver(Protocol):
    """Somewhere messages go."""

    def send(self, message: Message) -> None: ...


RECEIVERS: dict[Kind, Callable[..., Receiver]] = {
    "webhook": WebhookReceiver,
    "slack": SlackReceiver,
    "dingtalk": DingTalkReceiver,
    "feishu": FeishuReceiver,
    "email": EmailReceiver,
    "alertmanager": AlertmanagerReceiver,
}


def build_receiver(config: ReceiverConfig, *, timeout: float) -> Receiver:
    """The receiver a routing file's entry describes."""
    return RECEIVERS[config.kind](config, timeout=timeout)


def build_receivers(routing: Routing) -> dict[str, Receiver]:
    """Every receiver of a routing file, by name."""
    timeout = routing.delivery.timeout
    return {config.name: build_receiver(config, timeout=timeout) for config in routing.receivers}


__all__ = [
    "RECEIVERS",
    "Receiver",
    "build_receiver",
    "build_receivers",
    "dingtalk_sign",
    "feishu_sign",
]
