"""The routing file: YAML → checked ``Routing``, every refusal placed at ``file:line``.

Stages, as for rule files: ruamel.yaml reads the text keeping line numbers; pydantic checks
the shape of each section; one small check per cross-reference (the receivers of a route and
of a report entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from rules import RuleError, parse_duration

from ._errors import RoutingError
from ._labels import Label, matches

Kind = Literal["webhook", "slack", "dingtalk", "feishu", "email", "alertmanager"]
ChangeKind = Literal[
    "opened", "updated", "reopened", "resolved", "escalated", "sla-warning", "breached"
]
DEFAULT_NOTIFY_ON: tuple[ChangeKind, ...] = (
    "opened",
    "reopened",
    "escalated",
    "sla-warning",
    "breached",
)
ReportKind = Literal["daily", "weekly"]
REPORT_KINDS: tuple[ReportKind, ...] = ("daily", "weekly")
# Alertmanager takes alerts, not documents: it cannot show a report.
NOT_FOR_REPORTS: frozenset[Kind] = frozenset({"alertmanager"})


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


Duration = Annotated[float, BeforeValidator(_seconds)]
Zone = Annotated[str, AfterValidator(_zone)]
Globs = Annotated[list[str], BeforeValidator(_globs), Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Smtp(_Section):
    """Where an email receiver hands its mail over."""

    host: str
    port: int = Field(25, gt=0, lt=65536)
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password: str | None = None


class ReceiverConfig(_Section):
    """One receiver: its name, its kind and where it is."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Kind
    url: str | None = None
    secret: str | None = None
    smtp: Smtp | None = None
    language: Literal["en", "zh"] = "en"

    @model_validator(mode="after")
    def _complete(self) -> ReceiverConfig:
        if self.kind == "email" and self.smtp is None:
            raise ValueError("an email receiver needs 'smtp' (host, port, from, to)")
        if self.kind != "email" and not self.url:
            raise ValueError(f"a receiver of kind {self.kind} needs 'url'")
        if self.secret and self.kind not in ("dingtalk", "feishu"):
            raise ValueError("only dingtalk and feishu receivers sign with a 'secret'")
        return self


class Route(_Section):
    """Which ticket changes go to a receiver, and how they are grouped and repeated."""

    receiver: str
    match: dict[Label, Globs] = {}
    continue_: bool = Field(False, alias="continue")
    group_by: list[Label] = ["rule"]
    group_interval: Duration = Field(300.0, ge=0)
    repeat_interval: Duration = Field(14400.0, gt=0)
    notify_on: list[ChangeKind] = Field(list(DEFAULT_NOTIFY_ON), min_length=1)

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
    ``reports``; a file needs at least one of them."""

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
    document = _load_yaml(text, file)
    try:
        routing = Routing.model_validate(_plain(document))
    except ValidationError as error:
        first = min(error.errors(), key=lambda item: _line_of(document, item["loc"]))
        where = ".".join(map(str, first["loc"]))
        line = _line_of(document, first["loc"])
        raise RoutingError(f"{where}: {first['msg']}", file=file, line=line) from None
    _check_references(routing, document, file)
    return routing


def _check_references(routing: Routing, document: CommentedMap, file: str) -> None:
    kinds: dict[str, Kind] = {}
    for index, receiver in enumerate(routing.receivers):
        if receiver.name in kinds:
            line = _line_of(document, ["receivers", index, "name"])
            raise RoutingError(f"receiver {receiver.name!r} is defined twice", file=file, line=line)
        kinds[receiver.name] = receiver.kind
    for index, route in enumerate(routing.routes):
        _check_receiver(route.receiver, kinds, document, ["routes", index, "receiver"], file)
    for index, entry in enumerate(routing.reports):
        for number, name in enumerate(entry.receivers):
            where = ["reports", index, "receivers", number]
            _check_receiver(name, kinds, document, where, file)
            if kinds[name] in NOT_FOR_REPORTS:
                line = _line_of(document, where)
                raise RoutingError(
                    f"receiver {name!r} is of kind {kinds[name]}, which cannot take reports",
                    file=file,
                    line=line,
                )


def _check_receiver(
    name: str, kinds: dict[str, Kind], document: CommentedMap, where: list[Any], file: str
) -> None:
    if name not in kinds:
        known = ", ".join(sorted(kinds))
        line = _line_of(document, where)
        raise RoutingError(f"no receiver {name!r}; defined: {known}", file=file, line=line)


def _load_yaml(text: str, file: str) -> CommentedMap:
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise RoutingError(
            f"not valid YAML: {error.problem or error}", file=file, line=line
        ) from None
    except YAMLError as error:
        raise RoutingError(f"not valid YAML: {error}", file=file) from None
    if not isinstance(document, CommentedMap):
        raise RoutingError(
            "a routing file is a mapping with 'receivers', and 'routes' or 'reports'",
            file=file,
            line=1,
        )
    return document


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(item) for item in node]
    return node


def _line_of(document: Any, location: Iterable[Any]) -> int:
    """The 1-based line of the deepest node along a validation error's location."""
    line = 1
    node = document
    for part in location:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line
