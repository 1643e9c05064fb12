"""Runners: they move bytes and own offsets and clocks, and drive ``monitor.Pipeline``."""

from ._replay import replay

__all__ = ["replay"]
