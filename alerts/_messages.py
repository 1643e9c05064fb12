"""Messages: notifications and patrol reports rendered for people, in the receiver's language
(Jinja2 templates shipped in ``templates/``, one per language)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from monitor.report import HEADLINE, Format, Report, figure

from ._notification import Notification
from ._oncall import Person

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
EXCERPT = 2000  # characters of a report's Markdown a chat message carries (Slack: 3000 a block)


@dataclass(frozen=True)
class Item:
    """One notification in a message, with its ticket link and its own text."""

    notification: Notification
    link: str
    text: str


@dataclass(frozen=True)
class ReportContent:
    """A patrol report whole: email sends ``html`` (``markdown`` as the text alternative),
    webhooks add ``summary`` (id, period, zone, key figures) to their JSON."""

    summary: dict[str, object]
    markdown: str
    html: str


@dataclass(frozen=True)
class Page:
    """An escalation step on its way: step ``index`` of ``steps`` of ``chain`` in pass
    ``round`` of ``rounds`` (both 0-based), what it notifies (``target_kind`` schedule, team
    or person, and its id) and who that reaches now (``people``, maybe nobody)."""

    chain: str
    index: int
    steps: int
    round: int
    rounds: int
    target_kind: str
    target: str
    people: tuple[Person, ...]

    def contacts(self, kind: str) -> list[str]:
        """The people's contacts for a receiver kind (an address, a handle), where given."""
        return [person.contacts[kind] for person in self.people if kind in person.contacts]

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping (webhooks carry it)."""
        people = [{"id": p.id, "name": p.name, "contacts": dict(p.contacts)} for p in self.people]
        return {
            "chain": self.chain,
            "step": self.index,
            "steps": self.steps,
            "round": self.round,
            "rounds": self.rounds,
            "target": {"kind": self.target_kind, "id": self.target},
            "people": people,
        }


@dataclass(frozen=True)
class Message:
    """What a receiver sends: a title, the text, and each notification with its link; or,
    for a patrol report, no items and the report whole in ``report``. An escalation step's
    message also says which step of which chain, and who is on call (``page``)."""

    title: str
    text: str
    items: tuple[Item, ...]
    report: ReportContent | None = None
    page: Page | None = None


def compose(
    notifications: list[Notification],
    *,
    language: str,
    ticket_url: str,
    page: Page | None = None,
) -> Message:
    """One message for a group's notifications, or for an escalation step (``page``), in
    ``language`` (``en`` or ``zh``)."""
    module = _macros(language)
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
    if page is not None:
        title = str(module.page_title(p=page, t=top.ticket)).strip()
        texts.insert(0, str(module.page(p=page)).strip())
    return Message(title, "\n\n".join(texts), tuple(items), page=page)


def compose_report(report: Report, rendered: Mapping[Format, str], *, language: str) -> Message:
    """The message of a patrol report, in ``language``: its key figures and the Markdown's
    first sections after them, as many whole ones as fit in ``EXCERPT`` characters, then
    how to see the rest; the report whole rides along for receivers that can show it."""
    module = _macros(language)
    labels: dict[str, str] = module.report_labels
    lines = [f"{labels[n]}: {figure(report.headline[n], HEADLINE[n][1])}" for n in labels]
    if not report.complete:
        lines.append(str(module.report_incomplete(r=report)))
    kept, left = _excerpt(rendered["md"])
    parts = ["\n".join(lines), *kept, str(module.report_more(r=report, left=left))]
    summary: dict[str, object] = {**report.summary(), "headline": report.headline}
    return Message(
        title=str(module.report_title(r=report)).strip(),
        text="\n\n".join(parts),
        items=(),
        report=ReportContent(summary, rendered["md"], rendered["html"]),
    )


def _excerpt(markdown: str) -> tuple[list[str], int]:
    """The sections after the key figures that fit in ``EXCERPT`` characters, whole and in
    order (a cut table or code block reads badly), and how many are left out."""
    sections = [f"## {text.strip()}" for text in markdown.split("\n## ")[2:]]
    kept: list[str] = []
    size = 0
    for section in sections:
        size += len(section) + 2
        if size > EXCERPT:
            break
        kept.append(section)
    return kept, len(sections) - len(kept)


def _macros(language: str) -> Any:
    """The language's template module: its macros and label tables."""
    return _TEMPLATES.get_template(f"{language}.j2").module
