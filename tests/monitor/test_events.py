"""Event validation: every refusal has a reason code."""

from __future__ import annotations

import orjson
import pytest

from monitor import EventError, parse_event

VALID = {
    "specversion": "1.0",
    "id": "e1",
    "source": "wh-berlin",
    "type": "stock.level",
    "time": "2024-03-01T10:00:00+01:00",
    "subject": "W1/S1",
    "data": {"sku": "S1", "warehouse": "W1", "on_hand": 4, "safety_threshold": 10, "bin": "A3"},
}


def _with(**changes: object) -> bytes:
    return orjson.dumps({**VALID, **changes})


def test_valid_event_becomes_a_fact_with_epoch_times_and_extra_fields() -> None:
    event = parse_event(orjson.dumps(VALID))
    fact = event.as_fact()
    assert fact["time"] == 1709283600.0
    assert fact["data"] == {
        "sku": "S1",
        "warehouse": "W1",
        "on_hand": 4,
        "safety_threshold": 10,
        "bin": "A3",
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"id": "e1", "source": "x", "type": "stock.le', "malformed-json"),
        (b"\xff\xfe not utf-8", "not-utf8"),
        (b"[1, 2]", "not-an-object"),
        (_with(type="stock.teleported"), "unknown-type"),
        (_with(time="2024-02-30T10:00:00Z"), "invalid-envelope"),
        (_with(time="2024-03-01T10:00:00"), "invalid-envelope"),
        (_with(id=""), "invalid-envelope"),
        (_with(specversion="0.3"), "invalid-envelope"),
        (_with(data={"sku": "S1", "warehouse": "W1", "on_hand": "plenty"}), "invalid-data"),
        (_with(data={"sku": "S1", "on_hand": 3}), "invalid-data"),
        (_with(time="0001-01-01T00:00:00+01:00"), "implausible-time"),
        (_with(time="9999-12-31T23:00:00Z"), "implausible-time"),
        (_with(time=1709251200), "invalid-envelope"),
    ],
)
def test_refusals_carry_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(EventError) as refused:
        parse_event(raw)
    assert refused.value.reason == reason


def test_non_finite_numbers_are_refused() -> None:
    raw = orjson.dumps({**VALID, "data": {**VALID["data"], "on_hand": 1}}).replace(
        b'"on_hand":1', b'"on_hand":1e999'
    )
    with pytest.raises(EventError) as refused:
        parse_event(raw)
    assert refused.value.reason in ("invalid-data", "malformed-json")
