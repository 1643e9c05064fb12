"""Messages: notifications rendered for people, in the receiver's language (Jinja2 templates
shipped in ``templates/``, one per language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ._notification import Notification

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)
_TEMPLATES.filters["utc"] = lambda iso: (
    datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if iso else "—"
)
SHOWN = 10  # a message's text spells out this many changes and counts the rest


@dataclass(frozen=True)
class Item:
    """One notification in a message, with its ticket link and its own text."""

    notification: Notification
    link: str
    text: str


@dataclass(frozen=True)
class Message:
    """What a receiver sends: a title, the text, and each notification with its link."""

    title: str
    text: str
    items: tuple[Item, ...]


def compose(notifications: list[Notification], *, language: str, ticket_url: str) -> Message:
    """One message for a group's notifications, in ``language`` (``en`` or ``zh``)."""
    module: Any = _TEMPLATES.get_template(f"{language}.j2").module  # its macros: title, item, more
    items = []
    for notification in notifications:
        link = ticket_url.format(id=notification.ticket["id"])
        text = str(module.item(n=notification, t=notification.ticket, link=link)).strip()
        items.append(Item(notification, link, text))
    top = min(notifications, key=lambda n: n.ticket["severity"])
    title = str(module.title(n=top, t=top.ticket, count=len(notifications))).strip()
    texts = [item.text for item in items[:SHOWN]]
    if len(items) > SHOWN:
        texts.append(str(module.more(count=len(items) - SHOWN)).strip())
    return Message(title, "\n\n".join(texts), tuple(items))
