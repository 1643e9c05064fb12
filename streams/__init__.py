"""Runners: they move bytes and own offsets and clocks, and drive ``monitor.Pipeline``."""

from ._produce import Published, produce
from ._replay import replay
from ._topics import worker_topics
from ._worker import WorkerOptions, create_app

__all__ = ["Published", "WorkerOptions", "create_app", "produce", "replay", "worker_topics"]
