"""The routing file: YAML → checked ``Routing``, every refusal placed at ``file:line``.

Stages, as for rule files: ruamel.yaml reads the text keeping line numbers; pydantic checks
the shape of each section and reads the on-call file it names (``oncall``, relative to the
routing file; its own faults are refused at its own ``file:line``); one small check per
cross-reference (the receivers of a route and of a report entry, a route's escalation chain).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    InstanceOf,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from ruamel.yaml.comments import CommentedMap

from rules import RuleError, parse_duration, yaml_line, yaml_mapping, yaml_plain

from ._errors import RoutingError
from ._labels import ChangeKind, Label, check_matchers, matches
from ._oncall import OnCall, load_oncall

_NOT_ROUTING = "a routing file is a mapping with 'receivers', and 'routes' or 'reports'"

Kind = Literal["webhook", "slack", "dingtalk", "feishu", "email", "alertmanager"]
DEFAULT_NOTIFY_ON: tuple[ChangeKind, ...] = (
    "opened",
    "reopened",
    "escalated",
    "sla-warning",
    "breached",
)
ReportKind = Literal["daily", "weekly"]
REPORT_KINDS: tuple[ReportKind, ...] = ("daily", "weekly")
# Alertmanager takes alerts, not documents: it cannot show a report, nor address a person.
NOT_FOR_REPORTS: frozenset[Kind] = frozenset({"alertmanager"})
NOT_FOR_PEOPLE: frozenset[Kind] = frozenset({"alertmanager"})
ONCALL: Literal["oncall"] = "oncall"


def _seconds(value: Any) -> float:
    try:
        return parse_duration(str(value))
    except RuleError as error:
        raise ValueError(error.message) from None


def _globs(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name)") from None
    return value


def _addresses(value: Any) -> list[str] | Literal["oncall"]:
    if value == ONCALL:
        return ONCALL
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ValueError(f"'to' is a list of addresses, or {ONCALL} (the people on call)")
    return value


def _oncall_file(value: Any, info: ValidationInfo) -> OnCall:
    """The on-call file named ``value``, relative to the routing file's folder (``base`` in
    the validation context)."""
    path = Path(str(value))
    base = (info.context or {}).get("base")
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    try:
        return load_oncall(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the on-call file {path}: {error}") from None


Duration = Annotated[float, BeforeValidator(_seconds)]
Zone = Annotated[str, AfterValidator(_zone)]
Globs = Annotated[list[str], BeforeValidator(_globs), Field(min_length=1)]
Addresses: TypeAlias = Annotated[list[str] | Literal["oncall"], PlainValidator(_addresses)]
OnCallFile: TypeAlias = Annotated[InstanceOf[OnCall], PlainValidator(_oncall_file)]


def _is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Smtp(_Section):
    """Where an email receiver hands its mail over."""

    host: str
    port: int = Field(25, gt=0, lt=65536)
    sender: str = Field(alias="from")
    to: Addresses
    starttls: bool = False
    username: str | None = None
    password: str | None = None


class ReceiverConfig(_Section):
    """One receiver: its name, its kind and where it is; ``to_oncall`` (email: ``to: oncall``)
    makes it address the people an escalation step reaches."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Kind
    url: str | None = None
    secret: str | None = None
    smtp: Smtp | None = None
    language: Literal["en", "zh"] = "en"
    to_oncall: bool = False

    @model_validator(mode="after")
    def _complete(self) -> ReceiverConfig:
        if self.kind == "email" and self.smtp is None:
            raise ValueError("an email receiver needs 'smtp' (host, port, from, to)")
        if self.kind != "email" and not self.url:
            raise ValueError(f"a receiver of kind {self.kind} needs 'url'")
        if self.url is not None and not _is_http_url(self.url):
            raise ValueError(f"url {self.url!r} is not an http:// or https:// URL with a host")
        if self.secret and self.kind not in ("dingtalk", "feishu"):
            raise ValueError("only dingtalk and feishu receivers sign with a 'secret'")
        if self.to_oncall and self.kind == "email":
            raise ValueError(f"an email receiver addresses the people on call by 'to: {ONCALL}'")
        if self.to_oncall and self.kind in NOT_FOR_PEOPLE:
            raise ValueError(f"a receiver of kind {self.kind} cannot address a person")
        return self

    @property
    def oncall(self) -> bool:
        """Whether it addresses the people on call (and so carries escalation steps only)."""
        return self.to_oncall or (self.smtp is not None and self.smtp.to == ONCALL)


class Route(_Section):
    """Which ticket changes go to a receiver, and how they are grouped and repeated; and
    which escalation chain of the on-call file they start (``escalation``)."""

    receiver: str | None = None
    escalation: str | None = None
    match: dict[Label, Globs] = {}
    continue_: bool = Field(False, alias="continue")
    group_by: list[Label] = ["rule"]
    group_interval: Duration = Field(300.0, ge=0)
    repeat_interval: Duration = Field(14400.0, gt=0)
    notify_on: list[ChangeKind] = Field(list(DEFAULT_NOTIFY_ON), min_length=1)

    @model_validator(mode="after")
    def _goes_somewhere(self) -> Route:
        if self.receiver is None and self.escalation is None:
            raise ValueError("a route needs a 'receiver', an 'escalation' chain, or both")
        check_matchers(self.match)
        return self

    def takes(self, labels: dict[str, str]) -> bool:
        """Whether this route takes a change with these labels."""
        return labels["change"] in self.notify_on and matches(self.match, labels)


class Delivery(_Section):
    """How hard to try: attempts per delivery, backoff between them, per-request timeout."""

    attempts: int = Field(3, ge=1, le=10)
    backoff: Duration = Field(1.0, gt=0)
    max_backoff: Duration = Field(300.0, gt=0)
    timeout: Duration = Field(10.0, gt=0)


class ReportRoute(_Section):
    """Which patrol reports go to which receivers: the reports of these kinds for these time
    zones (no ``zones``: every zone)."""

    receivers: list[str] = Field(min_length=1)
    zones: list[Zone] = []
    kinds: list[ReportKind] = Field(list(REPORT_KINDS), min_length=1)

    def takes(self, kind: str, zone: str) -> bool:
        """Whether this entry takes the ``kind`` report of ``zone``."""
        return kind in self.kinds and (not self.zones or zone in self.zones)


class Routing(_Section):
    """A checked routing file: ticket changes go by ``routes``, patrol reports by
    ``reports``; a file needs at least one of them. ``oncall`` is the on-call file read
    (people, schedules, escalation chains) when the file names one."""

    oncall: OnCallFile | None = None
    receivers: list[ReceiverConfig] = Field(min_length=1)
    routes: list[Route] = []
    reports: list[ReportRoute] = []
    delivery: Delivery = Delivery()

    @model_validator(mode="after")
    def _routes_something(self) -> Routing:
        if not self.routes and not self.reports:
            raise ValueError("a routing file needs 'routes' (ticket changes) or 'reports'")
        return self

    def receiver(self, name: str) -> ReceiverConfig | None:
        """The receiver called ``name``, if the file has it."""
        return next((r for r in self.receivers if r.name == name), None)

    def oncall_receivers(self) -> list[ReceiverConfig]:
        """The receivers that address the people on call: every escalation step goes to them."""
        return [r for r in self.receivers if r.oncall]

    def routes_for(self, labels: dict[str, str]) -> list[tuple[int, Route]]:
        """The routes (with their index) a change goes to: in order, until one that takes it
        does not say ``continue``."""
        chosen = []
        for index, route in enumerate(self.routes):
            if route.takes(labels):
                chosen.append((index, route))
                if not route.continue_:
                    break
        return chosen

    def report_receivers(self, kind: str, zone: str) -> list[str]:
        """The receivers of the ``kind`` report of ``zone``, each once, in file order."""
        chosen = (
            name for entry in self.reports if entry.takes(kind, zone) for name in entry.receivers
        )
        return list(dict.fromkeys(chosen))


def load_routing(path: Path) -> Routing:
    """Read and check a routing file; ``RoutingError`` at ``file:line`` on any fault."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RoutingError(f"cannot read: {error}", file=file) from None
    document = yaml_mapping(text, file, RoutingError, _NOT_ROUTING)
    try:
        routing = Routing.model_validate(yaml_plain(document), context={"base": path.parent})
    except ValidationError as error:
        first = min(error.errors(), key=lambda item: yaml_line(document, item["loc"]))
        where = ".".join(map(str, first["loc"]))
        line = yaml_line(document, first["loc"])
        raise RoutingError(f"{where}: {first['msg']}", file=file, line=line) from None
    _check_references(routing, document, file)
    return routing


def _check_references(routing: Routing, document: CommentedMap, file: str) -> None:
    def fail(message: str, *where: Any) -> RoutingError:
        return RoutingError(message, file=file, line=yaml_line(document, where))

    receivers: dict[str, ReceiverConfig] = {}
    for index, receiver in enumerate(routing.receivers):
        if receiver.name in receivers:
            raise fail(f"receiver {receiver.name!r} is defined twice", "receivers", index, "name")
        receivers[receiver.name] = receiver
    for index, route in enumerate(routing.routes):
        if route.receiver is not None:
            at = ("routes", index, "receiver")
            if _known(route.receiver, receivers, fail, at).oncall:
                raise fail(
                    f"receiver {route.receiver!r} addresses the people on call: it takes the"
                    " steps of escalation chains, not routed changes (use 'escalation')",
                    *at,
                )
        if route.escalation is not None:
            _check_chain(routing, route.escalation, fail, ("routes", index, "escalation"))
    for index, entry in enumerate(routing.reports):
        for number, name in enumerate(entry.receivers):
            where = ("reports", index, "receivers", number)
            receiver = _known(name, receivers, fail, where)
            if receiver.kind in NOT_FOR_REPORTS:
                message = f"is of kind {receiver.kind}, which cannot take reports"
                raise fail(f"receiver {name!r} {message}", *where)
            if receiver.oncall:
                message = "addresses the people on call: it cannot take reports"
                raise fail(f"receiver {name!r} {message}", *where)


def _known(
    name: str,
    receivers: dict[str, ReceiverConfig],
    fail: Callable[..., RoutingError],
    where: tuple[Any, ...],
) -> ReceiverConfig:
    if name not in receivers:
        raise fail(f"no receiver {name!r}; defined: {', '.join(sorted(receivers))}", *where)
    return receivers[name]


def _check_chain(
    routing: Routing, chain: str, fail: Callable[..., RoutingError], where: tuple[Any, ...]
) -> None:
    if routing.oncall is None:
        raise fail("an escalation needs an on-call file: add 'oncall: path/to/oncall.yaml'", *where)
    if chain not in routing.oncall.chains:
        known = ", ".join(sorted(routing.oncall.chains)) or "none"
        raise fail(f"no escalation chain {chain!r} in the on-call file; defined: {known}", *where)
    if not routing.oncall_receivers():
        raise fail(
            f"no receiver addresses the people on call: give an email receiver 'to: {ONCALL}'"
            " or a chat receiver 'to_oncall: true'",
            *where,
        )
