"""The Grafana dashboard and its provisioning agree with each other and with the metrics the
monitor declares: every metric is on the dashboard, and every query names real metrics."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry
from ruamel.yaml import YAML

from monitor import DEFAULT_POLICY, MemoryTicketStore, PipelineMetrics, TicketMetrics

from .helpers import DEPLOY, dashboard, dashboard_panels, dashboard_queries

SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def _declared() -> dict[str, set[str]]:
    """Each metric family the monitor declares, with the sample names it exposes."""
    registry = CollectorRegistry()
    PipelineMetrics(registry)
    registry.register(TicketMetrics(MemoryTicketStore(DEFAULT_POLICY)))
    return {
        family.name: {family.name + s for s in SAMPLE_SUFFIXES.get(family.type, ("",))}
        for family in registry.collect()
    }


def test_every_metric_is_on_the_dashboard_and_every_query_names_real_metrics() -> None:
    declared = _declared()
    used = {name for query in dashboard_queries() for name in re.findall(r"riskmon_\w+", query)}
    assert used <= set().union(*declared.values())
    assert [family for family, samples in declared.items() if not samples & used] == []


def test_panels_use_the_provisioned_datasource() -> None:
    (variable,) = dashboard()["templating"]["list"]
    assert (variable["name"], variable["type"]) == ("DS_PROMETHEUS", "datasource")
    provisioned = YAML(typ="safe").load(DEPLOY / "grafana/provisioning/datasources/prometheus.yml")
    (source,) = provisioned["datasources"]
    assert variable["current"]["value"] == source["uid"] == "prometheus"
    panels = [panel for panel in dashboard_panels() if panel["type"] != "row"]
    reference = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    for panel in panels:
        assert panel["datasource"] == reference, panel["title"]
        assert panel["targets"] and all(t["datasource"] == reference for t in panel["targets"])
    ids = [panel["id"] for panel in dashboard_panels()]
    assert len(ids) == len(set(ids))
