"""Generated reports kept in Redis, one per period and time zone (a new one replaces it).

Each is a hash ``report:doc:ID`` holding its summary and its rendered forms; the sorted set
``report:index`` orders the ids by generation time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, cast

import orjson
import redis

from .._errors import StoreError
from ._model import Report
from ._render import FORMATS, Format, render


class ReportStore:
    """Stores rendered reports under the runtime's key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}report:"

    def save(self, report: Report) -> Mapping[Format, str]:
        """Render the report in every format and store it; returns the renderings."""
        rendered = {form: render(report, form) for form in FORMATS}
        fields: dict[str | bytes, str | bytes] = {form: text for form, text in rendered.items()}
        fields["summary"] = orjson.dumps(report.summary())
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(self._doc(report.id), mapping=fields)
                pipe.zadd(f"{self._prefix}index", {report.id: time.time()})
                pipe.execute()
        except redis.RedisError as error:
            raise StoreError(f"cannot store the report in Redis: {error}") from error
        return rendered

    def summaries(self) -> list[dict[str, Any]]:
        """Summaries of the stored reports, newest first."""
        try:
            ids = self._client.zrevrange(f"{self._prefix}index", 0, -1)
            with self._client.pipeline(transaction=False) as pipe:
                for report_id in ids:
                    pipe.hget(self._doc(report_id.decode()), "summary")
                found = cast(list[bytes | None], pipe.execute())
        except redis.RedisError as error:
            raise StoreError(f"cannot read reports from Redis: {error}") from error
        return [orjson.loads(raw) for raw in found if raw]

    def get(self, report_id: str, form: Format) -> str | None:
        """A stored report in one format, or ``None`` if there is no such report."""
        try:
            raw = self._client.hget(self._doc(report_id), form)
        except redis.RedisError as error:
            raise StoreError(f"cannot read reports from Redis: {error}") from error
        return raw.decode() if raw is not None else None

    def _doc(self, report_id: str) -> str:
        return f"{self._prefix}doc:{report_id}"
