"""Hot reload for a long-running worker: the rule files are checked on every clock tick and
put in force when they change; a broken file is refused (``file:line`` in the log) and the
rules in force stay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from rules import RuleBook, RuleError, rule_files

log = logging.getLogger(__name__)

_Signature = tuple[tuple[str, int, int], ...]


class RuleWatcher:
    """Reloads ``book`` when its files change; tells ``on_result`` "success" or "failure"."""

    def __init__(self, book: RuleBook, on_result: Callable[[str], None]) -> None:
        if book.path is None:
            raise ValueError("a rule book loaded from files is needed")
        self._book = book
        self._path = book.path
        self._on_result = on_result
        self._seen = _signature(self._path)

    def check(self) -> None:
        """Reload if any rule file was added, removed or changed since the last check."""
        signature = _signature(self._path)
        if signature == self._seen:
            return
        self._seen = signature
        try:
            rules = self._book.reload()
        except RuleError as error:
            log.error("rule files refused, the rules in force stay: %s", error)
            self._on_result("failure")
            return
        log.warning("rules reloaded: version %s, %d rules", rules.version, len(rules.rules))
        self._on_result("success")


def _signature(path: Path) -> _Signature:
    """Name, size and modification time of every rule file (empty if the folder is gone)."""
    try:
        files = rule_files(path)
    except RuleError:
        return ()
    stats = [(str(file), file.stat()) for file in files if file.exists()]
    return tuple((name, stat.st_size, stat.st_mtime_ns) for name, stat in stats)
