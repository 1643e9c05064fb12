"""Reports rendered: HTML with inline SVG charts and Markdown, from Jinja2 templates; JSON."""

from __future__ import annotations

import re
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Literal

import jinja2
import markupsafe
import orjson

from rules import SEVERITIES

from ._charts import Chart, bars, columns, text_bars
from ._model import Report

Format = Literal["md", "html", "json"]
FORMATS: tuple[Format, ...] = ("md", "html", "json")
# The key figures: label and how to show the value.
HEADLINE = {
    "events": ("Events", "count"),
    "orders": ("Orders placed", "count"),
    "data_error_share": ("Order records with data errors", "share"),
    "delivered": ("Deliveries", "count"),
    "late_delivery_share": ("Delivered after the promised date", "share"),
    "late_handover_share": ("Handed to the carrier late", "share"),
    "stocked_out": ("Site/SKUs stocked out", "count"),
    "below_safety": ("Site/SKUs below safety stock", "count"),
    "customs_held": ("Customs holds", "count"),
    "tickets_opened": ("Tickets opened", "count"),
    "tickets_resolved": ("Tickets resolved", "count"),
    "tickets_open": ("Tickets open at the end", "count"),
    "sla_attainment": ("Resolve SLA attainment", "share"),
    "mttr_seconds": ("MTTR", "duration"),
    "tickets_acknowledged": ("Tickets acknowledged", "count"),
    "ack_sla_attainment": ("Acknowledge SLA attainment", "share"),
    "mtta_seconds": ("MTTA", "duration"),
}


def render(report: Report, form: Format) -> str:
    """The report as Markdown, HTML or JSON text."""
    if form == "json":
        return orjson.dumps(asdict(report), option=orjson.OPT_INDENT_2).decode()
    template = _environment().get_template(f"report.{form}.j2")
    text = template.render(
        r=report, f=report.figures, headline=HEADLINE, charts=_charts(report), texts=_texts(report)
    )
    # the macros' line ends add up between blocks: one blank line is enough
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _charts(report: Report) -> dict[str, Chart]:
    """SVG charts for HTML."""
    f = report.figures
    unit = "hour" if report.kind == "daily" else "day"
    tickets = {
        "opened": [row.opened + row.reopened for row in f.tickets[:-1]],
        "resolved": [row.resolved for row in f.tickets[:-1]],
        "open at the end": [row.open_at_end for row in f.tickets[:-1]],
    }
    charts = {
        "timeline": columns(f"Events per {unit}", f.timeline.labels, f.timeline.series),
        "severity": columns("Tickets by severity", SEVERITIES, tickets, stacked=False),
        "rules": bars("Findings by rule", [(r.rule, r.findings) for r in f.top_rules]),
        "stock": bars("Site/SKUs by months of stock", f.stock.months_of_stock, label_width=140),
    }
    if report.days:
        per_day = {
            name: [day.headline[key] or 0 for day in report.days]
            for name, key in (("opened", "tickets_opened"), ("resolved", "tickets_resolved"))
        }
        labels = [day.day for day in report.days]
        charts["days"] = columns("Tickets per day", labels, per_day, stacked=False)
    return charts


def figure(value: float | None, kind: str) -> str:
    """A figure as people read it, by its kind in ``HEADLINE``: count, share or duration."""
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:.1f} %"
    if kind == "duration":
        return f"{value / 3600:,.1f} h"
    return f"{value:,g}" if isinstance(value, float) else f"{value:,}"


def _delta(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:+.1f} pts"
    sign = "+" if value > 0 else ""
    return sign + figure(value, kind)


def _cell(text: object) -> str:
    """Text safe in a Markdown table cell: no column breaks, no HTML a viewer would run."""
    escaped = str(markupsafe.escape(str(text)))
    return escaped.replace("|", "\\|").replace("\n", " ")


def _texts(report: Report) -> dict[str, list[str]]:
    """Text charts for Markdown."""
    timeline = report.figures.timeline
    totals = [
        (label, sum(values[n] for values in timeline.series.values()))
        for n, label in enumerate(timeline.labels)
    ]
    return {
        "timeline": text_bars(totals),
        "stock": text_bars(report.figures.stock.months_of_stock),
        "days": text_bars([(d.day, d.headline["tickets_opened"] or 0) for d in report.days]),
    }


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(figure=figure, delta=_delta, cell=_cell)
    return environment
