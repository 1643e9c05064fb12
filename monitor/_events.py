"""The event model: CloudEvents 1.0 envelopes with typed payloads, and their validation.

``parse_event`` is the one door through which raw input becomes an ``Event``; anything it
refuses raises ``EventError`` with a reason code that the dead-letter sink records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    ValidationError,
)

from ._errors import EventError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
EVENT_TYPES = (
    "order.created",
    "order.updated",
    "order.cancelled",
    "order.paid",
    "stock.level",
    "shipment.created",
    "shipment.scanned",
    "shipment.customs",
    "shipment.delivered",
    "shipment.exception",
    "complaint.created",
)


def _serialize_time(value: datetime, info: SerializationInfo) -> Any:
    """Epoch seconds for the rules (context ``epoch``), ISO 8601 in JSON, else unchanged."""
    if info.context and info.context.get("epoch"):
        return value.timestamp()
    return value.isoformat() if info.mode == "json" else value


Timestamp = Annotated[AwareDatetime, PlainSerializer(_serialize_time)]
_AS_FACT = {"epoch": True}


class _Payload(BaseModel):
    """Payload base: known fields are typed, unknown fields are kept for rules to read."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)


class Address(_Payload):
    line1: str | None = None
    postcode: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None


class OrderItem(_Payload):
    sku: str
    seller_id: str | None = None
    quantity: float = 1
    price: float | None = None
    freight: float | None = None
    ship_by: Timestamp | None = None


class OrderData(_Payload):
    order_id: str
    customer_id: str | None = None
    channel: str | None = None
    status: str | None = None
    address: Address | None = None
    items: list[OrderItem] = Field(default_factory=list)
    total: float | None = None
    amount: float | None = None
    currency: str | None = None
    promised_by: Timestamp | None = None


class StockLevelData(_Payload):
    sku: str
    warehouse: str
    on_hand: float
    safety_threshold: float | None = None


class ShipmentData(_Payload):
    shipment_id: str
    order_id: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    status: str | None = None
    location: str | None = None
    handed_over_at: Timestamp | None = None
    ship_by: Timestamp | None = None
    promised_by: Timestamp | None = None
    delivered_at: Timestamp | None = None


class ComplaintData(_Payload):
    complaint_id: str
    order_id: str | None = None
    customer_id: str | None = None
    reason: str | None = None


PAYLOADS: dict[str, type[_Payload]] = {
    "order.created": OrderData,
    "order.updated": OrderData,
    "order.cancelled": OrderData,
    "order.paid": OrderData,
    "stock.level": StockLevelData,
    "shipment.created": ShipmentData,
    "shipment.scanned": ShipmentData,
    "shipment.customs": ShipmentData,
    "shipment.delivered": ShipmentData,
    "shipment.exception": ShipmentData,
    "complaint.created": ComplaintData,
}


def _text_only(value: Any) -> Any:
    """Event times are RFC 3339 text: a bare number is too easily seconds or milliseconds."""
    if not isinstance(value, str):
        raise ValueError("time must be RFC 3339 text, e.g. 2024-03-01T10:00:00Z")
    return value


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str
    time: Annotated[AwareDatetime, BeforeValidator(_text_only)]
    subject: str | None = None
    datacontenttype: str | None = None
    data: dict[str, Any]


class Event(BaseModel):
    """A validated event: the envelope plus its typed payload."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None
    data: _Payload

    @property
    def identity(self) -> str:
        """What makes the event unique (CloudEvents: its id within its source)."""
        return f"{self.source}\x1f{self.id}"

    @property
    def timestamp(self) -> float:
        """Event time as seconds since the epoch."""
        return self.time.timestamp()

    def as_fact(self) -> dict[str, Any]:
        """The event as a plain mapping for the rules: timestamps become epoch seconds.

        Typed fields that are null are left out; the matcher also treats a null in a
        free-form field as missing, so "absent" has one meaning everywhere."""
        return {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.timestamp,
            "subject": self.subject,
            "data": self.data.model_dump(exclude_none=True, context=_AS_FACT),
        }


def parse_event(raw: bytes | str) -> Event:
    """Decode and validate one JSON event; raise ``EventError`` with a reason code."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        reason = "not-utf8" if _is_not_utf8(raw) else "malformed-json"
        raise EventError(reason, str(error)) from None
    if not isinstance(document, dict):
        raise EventError("not-an-object", f"expected a JSON object, got {type(document).__name__}")
    return validate_event(document)


def validate_event(document: dict[str, Any]) -> Event:
    """Validate an already decoded event mapping; raise ``EventError`` with a reason code."""
    try:
        envelope = _Envelope.model_validate(document)
    except ValidationError as error:
        raise EventError("invalid-envelope", _describe(error)) from None
    if not EARLIEST <= envelope.time <= LATEST:
        raise EventError(
            "implausible-time", f"time {envelope.time.isoformat()} is before 1970 or after 2100"
        )
    payload_model = PAYLOADS.get(envelope.type)
    if payload_model is None:
        raise EventError("unknown-type", f"unknown event type {envelope.type!r}")
    try:
        payload = payload_model.model_validate(envelope.data)
    except ValidationError as error:
        raise EventError("invalid-data", _describe(error)) from None
    return Event(
        id=envelope.id,
        source=envelope.source,
        type=envelope.type,
        time=envelope.time,
        subject=envelope.subject,
        data=payload,
    )


def _is_not_utf8(raw: bytes | str) -> bool:
    if isinstance(raw, str):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        location = ".".join(str(part) for part in item["loc"]) or "event"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)
