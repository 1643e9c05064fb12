"""docker-compose.yml, the Dockerfile and the Prometheus config they mount.

Docker does not run here, so nothing is started: the compose file is checked against the
Compose Specification's JSON schema (``compose-spec.json`` beside this file, see SOURCES.md),
and each service against what its image documents and what riskmon expects of it."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import jsonschema
import pytest
from ruamel.yaml import YAML

from monitor import Settings
from monitor.cli import main

from ..conftest import REPO

SCHEMA = Path(__file__).with_name("compose-spec.json")
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
GRAFANA = REPO / "deploy" / "grafana"
DATASOURCE = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
WORKER_SETTINGS = {
    "RISKMON_BROKER",
    "RISKMON_REDIS_URL",
    "RISKMON_PARTITIONS",
    "RISKMON_WORKER_GROUP",
    "RISKMON_DATA_DIR",
}


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path)  # resolves anchors and `<<` merges, as compose does


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = _yaml(COMPOSE)
    return document


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in service["environment"].items()}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Target → source of each short-syntax volume (a bind source starts with . or /)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_mode = volume.split(":")
        mounts[target] = source
    return mounts


def _binds(service: dict[str, Any]) -> dict[str, Path]:
    """Target → repository path of each bind mount."""
    return {
        target: (REPO / source).resolve()
        for target, source in _mounts(service).items()
        if source.startswith((".", "/"))
    }


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _entrypoint() -> list[str]:
    """The image's ENTRYPOINT (exec form, last stage)."""
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.+)$", DOCKERFILE.read_text(), re.MULTILINE)
    words: list[str] = json.loads(entrypoint)
    return words


def _worker_argv() -> list[str]:
    worker = _services()["worker"]
    return worker.get("entrypoint", _entrypoint()) + worker["command"]


def _producer_script() -> str:
    """The producer's shell script as the container runs it (compose turns $$ into $)."""
    (script,) = _services()["producer"]["command"]
    text: str = script
    return text.replace("$$", "$")


def _listeners(text: str) -> dict[str, tuple[str, str]]:
    """``NAME://host:port,...`` → {NAME: (host, port)}."""
    return {name: (host, port) for name, host, port in re.findall(r"(\w+)://([^:,]*):(\d+)", text)}


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(_compose())
    ]
    assert errors == []


def test_the_schema_refuses_what_compose_refuses() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    document = _compose()
    redis = document["services"]["redis"]
    redis["healthchek"] = redis.pop("healthcheck")
    document["services"]["worker"]["depends_on"]["kafka"]["condition"] = "service_ready"
    assert len(list(validator.iter_errors(document))) == 2


def test_no_dollar_is_left_to_interpolation() -> None:
    # Compose substitutes $NAME from the host's environment; a literal $ must be written $$.
    assert "$" not in COMPOSE.read_text().replace("$$", "")


def test_every_image_is_pinned() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name, service in _services().items():
        repository, _, tag = service["image"].rpartition(":")
        assert repository and tag and "/" not in tag and tag != "latest", name
        if "build" in service:
            assert service["image"] == f"order-risk-monitor:{version}", name


def test_the_worker_scales_out() -> None:
    services = _services()
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker
    argv = _worker_argv()
    assert argv[:2] == ["riskmon", "worker"]
    port = _option(argv, "--metrics-port")
    assert _option(argv, "--metrics-host") == "0.0.0.0"  # scraped from the prometheus container
    assert f"127.0.0.1:{port}/metrics" in " ".join(worker["healthcheck"]["test"])
    assert worker["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert all("healthcheck" in services[name] for name in worker["depends_on"])


def test_the_worker_settings_name_the_compose_services() -> None:
    services = _services()
    env = _env(services["worker"])
    assert set(env) >= WORKER_SETTINGS
    assert {name.removeprefix("RISKMON_").lower() for name in env} <= set(Settings.model_fields)
    kafka = _env(services["kafka"])
    broker = urlsplit(env["RISKMON_BROKER"])
    advertised = _listeners(kafka["KAFKA_ADVERTISED_LISTENERS"])
    internal = advertised[kafka["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    assert (broker.scheme, broker.netloc) == ("kafka", ":".join(internal))
    assert internal[0] == "kafka"
    redis = urlsplit(env["RISKMON_REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    assert env["RISKMON_PARTITIONS"] == kafka["KAFKA_NUM_PARTITIONS"]
    assert _env(services["producer"]) == env


def test_kafka_runs_in_kraft_mode_as_its_image_documents() -> None:
    document = _compose()
    kafka = document["services"]["kafka"]
    env = _env(kafka)
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocol_map = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    protocols = dict(item.split(":") for item in protocol_map.split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert set(protocols) == set(listeners)
    assert set(advertised) == set(listeners) - {controller}  # a controller is not advertised
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    node, port = env["KAFKA_NODE_ID"], listeners[controller][1]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:{port}"
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[name] == "1", name  # one broker
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])  # kafka-storage.sh random-uuid
    log_volume = _mounts(kafka)[env["KAFKA_LOG_DIRS"]]
    assert log_volume in document["volumes"]
    # The one published port reaches the listener advertised to clients on the host.
    (published,) = kafka["ports"]
    address, host_port, container_port = published.split(":")
    (outside,) = [name for name, (host, _) in advertised.items() if host == "127.0.0.1"]
    assert (address, advertised[outside][1], listeners[outside][1]) == (
        "127.0.0.1",
        host_port,
        container_port,
    )
    probe = " ".join(kafka["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:" in probe


def test_redis_persists_with_append_only_file() -> None:
    document = _compose()
    redis = document["services"]["redis"]
    repository, _, tag = redis["image"].partition(":")
    assert (repository, tag.split(".")[0]) == ("redis", "7")
    assert redis["command"][0] == "redis-server"
    assert _option(redis["command"], "--appendonly") == "yes"
    assert _mounts(redis)["/data"] in document["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_prometheus_config_passes_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail(
            "promtool is not installed: this test checks deploy/prometheus/prometheus.yml with "
            "it (Debian: apt-get install prometheus; make check installs it)"
        )
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_every_worker_under_the_job_the_alerts_select() -> None:
    services = _services()
    config = _yaml(PROMETHEUS)
    mounts = _binds(services["prometheus"])
    assert mounts["/etc/prometheus/prometheus.yml"] == PROMETHEUS  # the image's --config.file
    for rule_file in config["rule_files"]:
        assert mounts[f"/etc/prometheus/{rule_file}"] == PROMETHEUS.parent / rule_file
    (job,) = config["scrape_configs"]
    assert set(re.findall(r'job="([^"]+)"', ALERTS.read_text())) == {job["job_name"]}
    assert set(job) == {"job_name", "dns_sd_configs"}
    (lookup,) = job["dns_sd_configs"]
    assert (lookup["names"], lookup["type"]) == (["worker"], "A")
    assert str(lookup["port"]) == _option(_worker_argv(), "--metrics-port")
    (datasource,) = _yaml(DATASOURCE)["datasources"]
    assert config["global"]["scrape_interval"] == datasource["jsonData"]["timeInterval"]


def test_grafana_finds_its_provisioning_and_the_prometheus_service() -> None:
    services = _services()
    mounts = _binds(services["grafana"])
    provisioning = GRAFANA / "provisioning"
    for folder in (path for path in provisioning.iterdir() if path.is_dir()):
        assert mounts[f"/etc/grafana/provisioning/{folder.name}"] == folder
    (provider,) = _yaml(provisioning / "dashboards" / "riskmon.yml")["providers"]
    assert mounts[provider["options"]["path"]] == GRAFANA / "dashboards"
    (datasource,) = _yaml(DATASOURCE)["datasources"]
    url = urlsplit(datasource["url"])
    assert url.hostname == "prometheus" and services["prometheus"]["image"].startswith(
        "prom/prometheus:"
    )
    assert url.port == 9090  # the image listens there; compose publishes it on the same port
    assert services["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]


def test_every_file_compose_mounts_is_in_the_repository() -> None:
    document = _compose()
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source, _target, *mode = volume.split(":")
            if source.startswith((".", "/")):
                path = (REPO / source).resolve()
                assert path.is_relative_to(REPO) and path.exists(), f"{name}: {source}"
                assert mode == ["ro"], f"{name}: {source} is configuration, mount it read-only"
            else:
                assert source in document["volumes"], f"{name}: {source}"
        if "build" in service:
            assert (REPO / service["build"] / "Dockerfile").is_file()


def test_the_demo_producer_publishes_the_shipped_sample() -> None:
    producer = _services()["producer"]
    assert producer["profiles"] == ["demo"]
    assert producer["entrypoint"] == ["sh", "-c"]
    assert producer["depends_on"]["kafka"] == {"condition": "service_healthy"}
    script = _producer_script()
    assert subprocess.run(["sh", "-n", "-c", script], check=False).returncode == 0
    (code,) = re.findall(r"python -c '([^']+)'", script)
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    demo = Path(found.stdout.strip())
    assert demo == REPO / "monitor" / "demo"  # where `riskmon demo` reads it too
    for relative in re.findall(r'"\$demo/([^"]+)"', script):
        assert (demo / relative).exists(), relative
    commands = [shlex.split(line) for line in script.splitlines() if line.startswith("riskmon ")]
    imported = [_option(argv, "-o") for argv in commands if argv[1] == "import"]
    assert [argv[1] for argv in commands] == ["import", "import", "produce"]
    assert commands[-1][2:] == imported


def _riskmon_commands() -> list[list[str]]:
    script = _producer_script()
    shell = [shlex.split(line) for line in script.splitlines() if line.startswith("riskmon ")]
    return [_worker_argv(), *shell]


@pytest.mark.parametrize("argv", _riskmon_commands(), ids=lambda argv: " ".join(argv[:3]))
def test_compose_uses_only_options_the_cli_has(argv: list[str]) -> None:
    command: click.Command = main
    words = argv[1:]
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        found = command.get_command(click.Context(command), words[0])
        if found is None:
            pytest.skip(f"riskmon has no {words[0]!r} command yet")
        command, words = found, words[1:]
    known = {name for param in command.params for name in param.opts + param.secondary_opts}
    assert {word for word in words if word.startswith("-")} <= known


def test_the_image_runs_riskmon_as_a_user() -> None:
    text = DOCKERFILE.read_text()
    assert set(re.findall(r"^FROM (\S+)", text, re.MULTILINE)) == {"python:3.11-slim"}
    final_stage = text.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER (\S+)", final_stage, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert _entrypoint() == ["riskmon"]
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", "riskmon-data", "**/__pycache__"} <= ignored
