"""Checks on rendered reports: HTML well-formed and self-contained, its SVG charts valid XML,
the Markdown's sections in order."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

SVG = "{http://www.w3.org/2000/svg}"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}
SECTIONS = [
    "Key figures",
    "Events",
    "Order-data quality",
    "Fulfilment timeliness",
    "Stock availability",
    "Customs holds",
    "Tickets by severity",
    "Top rules",
    "Top sources",
    "Rule health",
]


class _Balance(HTMLParser):
    """Every element closed in order; nothing loaded from elsewhere, no scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.seen: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag != "script", "a script in the report"
        for name, value in attrs:
            assert name not in ("src", "href") or not value, f"<{tag} {name}={value}>"
        self.seen.append(tag)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def html_charts(text: str) -> list[ET.Element]:
    """Assert the HTML is a well-formed, self-contained document; its parsed SVG charts."""
    checker = _Balance()
    checker.feed(text)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert not checker.open, f"unclosed: {checker.open}"
    assert [t for t in checker.seen if t in ("html", "head", "body")] == ["html", "head", "body"]
    charts = [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", text, re.S)]
    for chart in charts:
        assert chart.tag == f"{SVG}svg"
        assert chart.find(f"{SVG}title") is not None
    return charts


def bars(chart: ET.Element) -> dict[str, str]:
    """A chart's drawn bars: hover text → height (the legend's squares left out)."""
    return {
        rect.findtext(f"{SVG}title", ""): rect.get("height", "")
        for rect in chart.iter(f"{SVG}rect")
        if " · " in rect.findtext(f"{SVG}title", "") or ": " in rect.findtext(f"{SVG}title", "")
    }


def markdown_sections(text: str) -> list[str]:
    """The level-2 headings of a Markdown report."""
    return re.findall(r"^## (.+)$", text, re.M)
