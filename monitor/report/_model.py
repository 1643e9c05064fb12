"""What a patrol report says, as plain frozen records (stored as JSON, rendered by templates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ratio:
    """``part`` of ``whole``; ``share`` rounded to 4 decimals, ``None`` when ``whole`` is 0."""

    part: int
    whole: int
    share: float | None


def ratio(part: int, whole: int) -> Ratio:
    return Ratio(part, whole, round(part / whole, 4) if whole else None)


@dataclass(frozen=True)
class EventCount:
    type: str
    source: str
    count: int


@dataclass(frozen=True)
class Events:
    total: int
    rows: list[EventCount]


@dataclass(frozen=True)
class Timeline:
    """Events per column (hours of a day, days of a week), one series per type family."""

    labels: list[str]
    series: dict[str, list[int]]


@dataclass(frozen=True)
class QualityRow:
    source: str
    channel: str
    errors: Ratio  # order records (created/updated) with an address data error


@dataclass(frozen=True)
class OrderQuality:
    total: Ratio
    rows: list[QualityRow]


@dataclass(frozen=True)
class RuleTickets:
    """One rule's tickets in a period: new, reopened, resolved, and open at its end."""

    rule: str
    opened: int
    reopened: int
    resolved: int
    open_at_end: int


@dataclass(frozen=True)
class Fulfilment:
    delivered: int
    delivered_late: Ratio  # of deliveries with a promised date
    handed_over: int
    handed_over_late: Ratio  # of hand-overs with a ship-by deadline
    stalled: list[RuleTickets]


@dataclass(frozen=True)
class Stock:
    readings: int  # stock.level events received
    pairs: int  # site/SKU pairs that reported; each counted at its newest reading
    stocked_out: Ratio
    below_safety: Ratio
    months_of_stock_median: float | None  # over pairs with a consumption (AMC) above 0
    months_of_stock: list[tuple[str, int]]
    tickets: list[RuleTickets]


@dataclass(frozen=True)
class Customs:
    held: int
    released: int
    tickets: list[RuleTickets]


@dataclass(frozen=True)
class SeverityRow:
    severity: str  # P0–P3, or "all"
    opened: int
    reopened: int
    resolved: int
    open_at_end: int
    sla_met: int  # resolved before the resolve SLA breached
    sla_missed: int  # resolve SLA breached in the period
    sla_attainment: float | None
    mttr_seconds: int | None  # mean time from (re)opening to resolution
    acknowledged: int  # episodes a person acknowledged in the period
    ack_sla_met: int  # of those, acknowledged before the acknowledge SLA breached
    ack_sla_missed: int  # acknowledge SLA breached in the period
    ack_sla_attainment: float | None  # met ÷ (met + missed)
    mtta_seconds: int | None  # mean time from (re)opening to acknowledgement


@dataclass(frozen=True)
class TopRule:
    rule: str
    findings: int
    opened: int
    reopened: int
    resolved: int
    open_at_end: int


@dataclass(frozen=True)
class TopSource:
    source: str
    events: int
    findings: int


@dataclass(frozen=True)
class SelfResolved:
    """A rule's resolutions, and how many came before the acknowledge SLA ran out with nobody
    having acknowledged the ticket."""

    rule: str
    before_ack: Ratio
    flagged: bool  # most of them: likely noise


@dataclass(frozen=True)
class RuleHealth:
    never_fired: list[str]
    self_resolved: list[SelfResolved]


@dataclass(frozen=True)
class Figures:
    """Every figure of one period."""

    events: Events
    timeline: Timeline
    order_quality: OrderQuality
    fulfilment: Fulfilment
    stock: Stock
    customs: Customs
    tickets: list[SeverityRow]
    top_rules: list[TopRule]
    top_sources: list[TopSource]
    rule_health: RuleHealth


Headline = dict[str, float | int | None]


@dataclass(frozen=True)
class DaySummary:
    day: str
    headline: Headline


@dataclass(frozen=True)
class Report:
    """A daily or weekly patrol report for one time zone."""

    id: str
    kind: str
    period: str
    zone: str
    start: str  # local ISO 8601
    end: str
    generated_at: str
    data_through: str | None  # the newest watermark recorded, local time
    complete: bool  # whether the watermark has passed the period's end
    figures: Figures
    headline: Headline
    previous: Headline
    deltas: Headline
    days: list[DaySummary] = field(default_factory=list)  # weekly: each day's headline

    def summary(self) -> dict[str, Any]:
        """What a listing shows of the report."""
        return {
            "id": self.id,
            "kind": self.kind,
            "period": self.period,
            "zone": self.zone,
            "generated_at": self.generated_at,
            "data_through": self.data_through,
            "complete": self.complete,
        }
