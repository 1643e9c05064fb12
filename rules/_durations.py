"""Durations as rule files write them: ``90s``, ``10m``, ``24h``, ``7d``, ``1w``, ``1h30m``."""

from __future__ import annotations

import re

from ._errors import RuleError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_SECONDS = 10 * 365 * 86400
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``24h`` or ``1h30m``; ``RuleError`` if it is not one."""
    compact = str(text).strip().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise RuleError(
            f"{text!r} is not a duration: write a number and a unit (s, m, h, d, w), e.g. 24h"
        )
    seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if seconds > MAX_SECONDS:
        raise RuleError(f"{text!r} is longer than ten years")
    return seconds
