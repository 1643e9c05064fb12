"""Chart geometry: columns (stacked or grouped) and horizontal bars, laid out here and drawn
as inline SVG by the HTML template; and plain-text bars for Markdown.

Hand-written rather than a chart library: two chart shapes need ~100 lines, and the output
is plain SVG with no scripts, fonts or styles from outside.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")
WIDTH = 720
_LEGEND = 22  # height of the legend row
_AXIS = 40  # room for the value axis (left) and the labels (below)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    tip: str  # shown on hover


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Chart:
    """What the SVG template draws."""

    title: str
    width: int
    height: int
    rects: list[Rect]
    texts: list[Text]


def columns(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    stacked: bool = True,
    height: int = 220,
) -> Chart:
    """One column per label; the series stacked in it, or side by side."""
    names = list(series)
    plot_w, plot_h = WIDTH - _AXIS - 10, height - _LEGEND - _AXIS
    sums = [sum(values[n] for values in series.values()) for n in range(len(labels))]
    peak = max([*(sums if stacked else (v for vs in series.values() for v in vs)), 1])
    slot = plot_w / max(len(labels), 1)
    width = slot * 0.8 / (1 if stacked else max(len(names), 1))
    rects, texts = _legend(names)
    bottom = _LEGEND + plot_h
    for n, label in enumerate(labels):
        left, base = _AXIS + n * slot + slot * 0.1, bottom
        for k, name in enumerate(names):
            value = series[name][n]
            tall = value / peak * plot_h
            x = left if stacked else left + k * width
            if value:
                tip = f"{label} · {name}: {value:,g}"
                rects.append(Rect(x, base - tall, width, tall, _color(k), tip))
            base -= tall if stacked else 0
    step = max(1, math.ceil(len(labels) * 44 / plot_w))
    for n in range(0, len(labels), step):
        texts.append(Text(_AXIS + (n + 0.5) * slot, bottom + 16, labels[n], "middle"))
    texts.append(Text(_AXIS - 6, bottom, "0", "end"))
    texts.append(Text(_AXIS - 6, _LEGEND + 10, f"{peak:,g}", "end"))
    rects.append(Rect(_AXIS, bottom, plot_w, 1, "#999", ""))
    return Chart(title, WIDTH, height, rects, texts)


def bars(title: str, items: Sequence[tuple[str, float]], *, label_width: int = 220) -> Chart:
    """One horizontal bar per item, its value written after it."""
    row, plot_w = 22, WIDTH - label_width - 70
    peak = max([value for _, value in items] + [1])
    rects: list[Rect] = []
    texts: list[Text] = []
    for n, (label, value) in enumerate(items):
        y = 6 + n * row
        long = value / peak * plot_w
        if value:
            rects.append(Rect(label_width, y, long, row - 6, _color(0), f"{label}: {value:,g}"))
        texts.append(Text(label_width - 6, y + 12, label, "end"))
        texts.append(Text(label_width + long + 6, y + 12, f"{value:,g}"))
    return Chart(title, WIDTH, 12 + max(len(items), 1) * row, rects, texts)


def text_bars(items: Sequence[tuple[str, float]], *, width: int = 40) -> list[str]:
    """Bars drawn with block characters, one line per item, for Markdown."""
    peak = max([value for _, value in items] + [1])
    pad = max([len(label) for label, _ in items] + [0])
    return [
        f"{label:>{pad}} │{'█' * round(value / peak * width)} {value:,g}" for label, value in items
    ]


def _legend(names: Sequence[str]) -> tuple[list[Rect], list[Text]]:
    rects, texts = [], []
    for k, name in enumerate(names):
        x = _AXIS + k * 130
        rects.append(Rect(x, 4, 12, 12, _color(k), name))
        texts.append(Text(x + 16, 14, name))
    return rects, texts


def _color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]
