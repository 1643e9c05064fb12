"""The pipeline observer that records the report's figures while events are processed.

Only fresh events reach observers (the pipeline drops those seen before), so replaying a
file again changes no figure. The recorder is told after a batch's tickets and checkpoint
are stored: a crash in between loses that batch's figures rather than counting them twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import redis

from .._actions import Occurrence
from .._events import Event, OrderData, ShipmentData, StockLevelData
from .._pipeline import Batch
from ._aggregates import Aggregates, Reading, Tally, bucket

RELEASED = frozenset({"released", "cleared"})


def _later(moment: datetime | None, deadline: datetime | None) -> bool:
    return moment is not None and deadline is not None and moment > deadline


def _deadline(name: str, deadline: str, moment: str) -> Callable[[Event], Iterator[str]]:
    """A measure of a shipment event against one of its deadlines: ``name``, then
    ``name-<deadline>`` when the event has one, and ``name-late`` when it was missed."""

    def measure(event: Event) -> Iterator[str]:
        data = event.data
        assert isinstance(data, ShipmentData)
        yield name
        limit = getattr(data, deadline)
        if limit is not None:
            yield f"{name}-{_SUFFIX[deadline]}"
            if _later(getattr(data, moment) or event.time, limit):
                yield f"{name}-late"

    return measure


_SUFFIX = {"promised_by": "promised", "ship_by": "deadline"}
_delivery = _deadline("delivered", "promised_by", "delivered_at")
_handover = _deadline("handed-over", "ship_by", "handed_over_at")


def _customs(event: Event) -> Iterator[str]:
    data = event.data
    assert isinstance(data, ShipmentData)
    if data.status == "held":
        yield "customs-held"
    elif data.status in RELEASED:
        yield "customs-released"


# Facts read from an event's data, by event type: the measures the report divides.
MEASURES: dict[str, Callable[[Event], Iterable[str]]] = {
    "shipment.delivered": _delivery,
    "shipment.created": _handover,
    "shipment.customs": _customs,
}


class ReportRecorder:
    """A ``PipelineObserver``: counts events per type, source and channel, rule findings and
    the measures above per 15-minute UTC bucket, and keeps stock readings, in Redis."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._aggregates = Aggregates(client, prefix)
        self._watermark = float("-inf")

    def observe(self, batch: Batch) -> None:
        tallies: Counter[Tally] = Counter()
        readings: list[Reading] = []
        channels = {event.identity: _channel(event) for event in batch.processed}
        for event in batch.events:
            at, source, channel = bucket(event.timestamp), event.source, _channel(event)
            tallies[Tally(at, "event", event.type, source, channel)] += 1
            for measure in MEASURES.get(event.type, _nothing)(event):
                tallies[Tally(at, "measure", measure, source, "")] += 1
            if isinstance(event.data, StockLevelData):
                readings.append(_reading(event, event.data))
        for action in batch.actions:
            if isinstance(action, Occurrence):
                # an event's finding carries the event's identity; a timer's has no channel
                channel = channels.get(action.action_id, "")
                tallies[
                    Tally(bucket(action.at), "finding", action.rule, action.source, channel)
                ] += 1
        if tallies or readings or batch.watermark > self._watermark:
            self._aggregates.write(tallies, readings, batch.watermark)
            self._watermark = batch.watermark


def _nothing(event: Event) -> Iterable[str]:
    return ()


def _channel(event: Event) -> str:
    return (event.data.channel or "") if isinstance(event.data, OrderData) else ""


def _reading(event: Event, data: StockLevelData) -> Reading:
    amc = (data.model_extra or {}).get("amc")
    return Reading(
        event.timestamp,
        data.warehouse,
        data.sku,
        data.on_hand,
        data.safety_threshold,
        float(amc) if isinstance(amc, int | float) and not isinstance(amc, bool) else None,
    )
