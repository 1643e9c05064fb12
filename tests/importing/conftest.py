"""Fixtures for the import tests: the shared real data, and reading JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# CI runs a fresh clone with a copy of shared/ beside the repository.
_SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

JsonLines = Callable[[Path], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data sets (see shared/data/SOURCES.md)."""
    return _SHARED_DATA


@pytest.fixture(scope="session")
def jsonl() -> JsonLines:
    """Read every line of a JSON Lines file."""

    def read(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    return read
