"""The dead-letter sink: every input that is not a valid event, with its reason, kept."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from ._errors import StoreError


@dataclass(frozen=True)
class DeadLetter:
    """A refused input: the raw bytes, where it came from, and why."""

    raw: bytes
    origin: str
    reason: str
    detail: str


class DeadLetterSink(Protocol):
    """Where refused inputs go."""

    def write(self, letters: list[DeadLetter]) -> None: ...


class FileDeadLetters:
    """Dead letters appended to a JSONL file; raw input kept as text, or base64 if binary."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                for letter in letters:
                    out.write(orjson.dumps(_record(letter)) + b"\n")
        except OSError as error:
            raise StoreError(f"cannot write dead letters to {self.path}: {error}") from None


def _record(letter: DeadLetter) -> dict[str, str]:
    record = {
        "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "origin": letter.origin,
        "reason": letter.reason,
        "detail": letter.detail,
    }
    try:
        record["raw"] = letter.raw.decode("utf-8")
    except UnicodeDecodeError:
        record["raw_base64"] = base64.b64encode(letter.raw).decode("ascii")
    return record
