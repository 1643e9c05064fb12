"""The rule language's one exception."""

from __future__ import annotations


class RuleError(Exception):
    """A rule file is refused: ``file:line: message``.

    ``rules/`` imports nothing else of ours, so this is its own root; the CLI treats it
    like ``monitor.RiskMonitorError``.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")

    def located(self, file: str, line: int) -> RuleError:
        """The same error placed at ``file:line`` when it does not know its place yet."""
        if self.file:
            return self
        return RuleError(self.message, file=file, line=self.line or line)
