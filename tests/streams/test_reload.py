"""A running worker's rule files: a change is put in force at the next tick, a broken file is
refused and the rules in force stay, and every reload is counted by result."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import CollectorRegistry

from monitor import EVENT_TYPES, PipelineMetrics
from rules import PACKS_DIR, RuleBook
from streams._reload import RuleWatcher


def _touch_later(path: Path, text: str) -> None:
    """Write ``text`` with a modification time surely newer than before."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_changed_rules_are_put_in_force_and_broken_ones_refused(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(PACKS_DIR, folder)
    pack = folder / "core.yaml"
    book = RuleBook.load(folder, event_types=EVENT_TYPES)
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    watcher = RuleWatcher(book, metrics.count_reload)
    first = book.current.rules.version

    watcher.check()  # nothing changed
    assert book.current.rules.version == first
    original = pack.read_text()
    _touch_later(pack, original.replace("severity: P3", "severity: P2", 1))
    watcher.check()
    second = book.current.rules.version
    assert second != first
    _touch_later(pack, original + "\n  - id: broken\n    on: [nothing.known]\n")
    watcher.check()
    assert book.current.rules.version == second  # refused: the rules in force stay

    def reloads(result: str) -> float | None:
        return registry.get_sample_value("riskmon_rule_reloads_total", {"result": result})

    assert (reloads("success"), reloads("failure")) == (1.0, 1.0)
