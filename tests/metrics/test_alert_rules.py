"""The alerting rules load and pass their unit tests, and the metrics follow Prometheus'
naming conventions (``promtool check metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from monitor import DEFAULT_POLICY, MemoryTicketStore, PipelineMetrics, TicketMetrics

from .helpers import ALERTS, ALERTS_TEST, promtool


def test_alerting_rules_are_valid() -> None:
    assert "SUCCESS: 5 rules found" in promtool("check", "rules", ALERTS)


def test_alerting_rules_pass_their_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", ALERTS_TEST)


def test_metric_names_follow_the_conventions() -> None:
    registry = CollectorRegistry()
    PipelineMetrics(registry)
    registry.register(TicketMetrics(MemoryTicketStore(DEFAULT_POLICY)))
    exposition = generate_latest(registry)
    names = {line.split()[2] for line in exposition.decode().splitlines() if line[:6] == "# TYPE"}
    assert names and all(name.startswith("riskmon_") for name in names)
    assert promtool("check", "metrics", stdin=exposition) == ""
