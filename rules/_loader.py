"""Loading rule packs from disk, and swapping them atomically on reload."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._errors import RuleError
from ._matcher import Matcher
from ._model import Rule, RuleSet
from ._parents import check_parents
from ._schema import read_rule_file

PACKS_DIR = Path(__file__).parent / "packs"


def rule_files(path: Path) -> list[Path]:
    """The rule files at ``path``: the file itself, or a folder's ``*.yaml``/``*.yml``."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise RuleError("no such rule file or folder", file=str(path))
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise RuleError("no rule files (*.yaml) in this folder", file=str(path))
    return files


def load_rules(
    path: Path | str = PACKS_DIR, *, event_types: Sequence[str] | None = None
) -> RuleSet:
    """Read, check and compile every rule file at ``path``; ``RuleError`` on the first fault.

    The rules are compiled onto the engine once here so that a rule the engine refuses is
    refused at load time, not on the first event.
    """
    digest = hashlib.sha256()
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    files = rule_files(Path(path))
    for file in files:
        text = _read_text(file)
        digest.update(file.name.encode() + b"\0" + text.encode() + b"\0")
        for rule in read_rule_file(text, file=str(file), event_types=event_types):
            if rule.id in seen:
                first = seen[rule.id]
                raise RuleError(
                    f"rule id {rule.id!r} is already defined at {first.file}:{first.line}",
                    file=rule.file,
                    line=rule.line,
                )
            seen[rule.id] = rule
            rules.append(rule)
    if not rules:
        raise RuleError(
            "no rules in the rule files: a monitor without rules sees nothing", file=str(path)
        )
    check_parents(rules)
    rule_set = RuleSet(tuple(rules), digest.hexdigest()[:12], tuple(str(f) for f in files))
    Matcher(rule_set.rules).close()
    return rule_set


def _read_text(file: Path) -> str:
    """A rule file's text; a byte that is not UTF-8 is refused at its line."""
    try:
        data = file.read_bytes()
    except OSError as error:
        raise RuleError(f"cannot read: {error}", file=str(file)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = f"not UTF-8: byte 0x{data[error.start]:02x} cannot be read ({error.reason})"
        raise RuleError(message, file=str(file), line=line) from None


@dataclass(frozen=True)
class InForce:
    """A rule set and its compiled matcher, always swapped together."""

    rules: RuleSet
    matcher: Matcher


class RuleBook:
    """The rules in force. ``reload`` swaps in a new set only when all of it loads; on any
    fault the previous rules stay in force and the error is raised to the caller.

    Readers take ``current`` once per event; the swap is one assignment. Not for several
    threads: the replaced matcher is closed at once.
    """

    def __init__(
        self, rules: RuleSet, *, path: Path | None = None, event_types: Sequence[str] | None = None
    ) -> None:
        self.path = path
        self._event_types = event_types
        self.current = InForce(rules, Matcher(rules.rules))

    @classmethod
    def load(cls, path: Path | str, *, event_types: Sequence[str] | None = None) -> RuleBook:
        """The rule files at ``path``, in force."""
        rules = load_rules(path, event_types=event_types)
        return cls(rules, path=Path(path), event_types=event_types)

    def reload(self) -> RuleSet:
        """Load the files again and put them in force; ``RuleError`` leaves the old ones."""
        if self.path is None:
            raise RuleError("these rules were not loaded from files")
        rules = load_rules(self.path, event_types=self._event_types)
        old, self.current = self.current, InForce(rules, Matcher(rules.rules))
        old.matcher.close()
        return rules

    def close(self) -> None:
        """Free the compiled rules."""
        self.current.matcher.close()
