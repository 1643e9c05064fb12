"""Settings: refused with a plain message when invalid."""

from __future__ import annotations

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
        ("RISKMON_BATCH_SIZE", "0", "batch_size"),
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
