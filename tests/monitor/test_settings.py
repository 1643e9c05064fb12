"""Settings: refused with a plain message when invalid."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from monitor import ConfigError, load_settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RISKMON_SLA", '{"P3": {"acknowledge": "1h", "resolve": "999999w"}}', "ten years"),
        ("RISKMON_SLA", '{"P2": {"ack": "1h"}}', "unknown ack"),
        ("RISKMON_SLA", '{"P2": {"acknowledge": "10h", "resolve": "1h"}}', "later than resolve"),
        ("RISKMON_SLA", "P2=1h", "sla"),
        ("RISKMON_SLA", '{"P2": {"warning": "120%"}}', "P2: warning '120%' is not a share"),
        ("RISKMON_SLA", '{"P2": {"warning": "soon"}}', r'e\.g\. "80%" or 0\.8'),
        ("RISKMON_SLA", '{"P2": {"raise_on_breach": "yes"}}', "raise_on_breach is true or false"),
        ("RISKMON_SLA", '{"P0": {"raise_on_breach": true}}', "P0 is the highest"),
        ("RISKMON_BUSINESS_HOURS", '{"inventory": {"zone": "Mars/Olympus"}}', "missing from, to"),
        (
            "RISKMON_BUSINESS_HOURS",
            '{"inventory": {"zone": "Mars/Olympus", "from": "09:00", "to": "18:00"}}',
            "business_hours.inventory: zone: unknown time zone 'Mars/Olympus'",
        ),
        ("RISKMON_BATCH_SIZE", "0", "batch_size"),
        ("RISKMON_BROKER", "kafka://127.0.0.1:99999", "is not kafka://HOST:PORT"),
        ("RISKMON_DEAD_LETTER_TOPIC", "orders", "^setting settings: dead_letter_topic 'orders' is"),
        ("RISKMON_DEAD_LETTER_TOPIC", "riskmon-keyed", "a topic the workers read"),
        ("RISKMON_TICK", "0s", "setting tick: more than 0s"),
        ("RISKMON_SESSION_TIMEOUT", "2s", "setting session_timeout: at least 6s"),
        ("RISKMON_BROKER", "http://127.0.0.1:9092", "is not kafka://HOST:PORT"),
        ("RISKMON_BROKER", "kafka://a:9092,kafka://b", "'kafka://b' is not kafka://HOST:PORT"),
        ("RISKMON_MAX_FUTURE", "soon", "not a duration"),
        ("RISKMON_SETTINGS", "/nowhere/riskmon.toml", "not a file"),
    ],
)
def test_invalid_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_a_broken_settings_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "riskmon.toml").write_text("redis_prefix = [unclosed\n")
    with pytest.raises(ConfigError, match="settings"):
        load_settings()


def test_settings_file_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "riskmon.toml").write_text('redis_prefix = "shop:"\n[sla.P2]\nacknowledge = "1h"\n')
    monkeypatch.setenv("RISKMON_BATCH_SIZE", "50")
    settings = load_settings()
    assert (settings.redis_prefix, settings.batch_size) == ("shop:", 50)
    assert (
        settings.policy.sla("P2").acknowledge == 3600 and settings.policy.sla("P2").resolve == 86400
    )


def test_sla_policy_and_business_hours_from_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "riskmon.toml").write_text(
        '[sla.P1]\nwarning = "75%"\nraise_on_breach = true\n'
        "[business_hours.inventory]\n"
        'zone = "Asia/Shanghai"\ndays = "mon-fri"\nfrom = "09:00"\nto = "18:00"\n'
        'holidays = [2026-10-01, "2026-10-02"]\n'
    )
    policy = load_settings().policy
    assert (policy.sla("P1").warning, policy.sla("P1").raise_on_breach) == (0.75, True)
    assert (policy.sla("P2").warning, policy.sla("P2").raise_on_breach) == (0.8, False)
    calendar = policy.calendars["inventory"]
    assert calendar.zone.key == "Asia/Shanghai" and calendar.days == {0, 1, 2, 3, 4}
    assert calendar.holidays == {date(2026, 10, 1), date(2026, 10, 2)}
