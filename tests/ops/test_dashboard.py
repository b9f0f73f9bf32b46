"""The Grafana dashboard and the alert rules cover the metric families operators rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# DESIGN.md §4.6: names that dashboards and alerts use.
FAMILIES = (
    "tws_requests_total",
    "tws_retries_total",
    "tws_request_latency_seconds",
    "tws_circuit_state",
    "tws_circuit_open_total",
    "migration_legacy_hits_total",
    "migration_new_hits_total",
    "migration_fallbacks_total",
    "migration_errors_total",
    "etl_jobs_total",
    "etl_job_duration_seconds",
    "etl_log_lines_total",
    "audit_entries_total",
    "audit_buffer_depth",
    "audit_flush_failures_total",
    "audit_verify_failures_total",
)


def _dashboard_exprs() -> str:
    dashboard = json.loads((ROOT / "ops/grafana/resync.json").read_text())
    return "\n".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))


@pytest.mark.parametrize("family", FAMILIES)
def test_every_metric_family_has_a_panel(family: str) -> None:
    assert family in _dashboard_exprs()


def test_dashboard_is_importable_as_is() -> None:
    dashboard = json.loads((ROOT / "ops/grafana/resync.json").read_text())
    assert dashboard["uid"] == "resync-ops"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique for Grafana to import the file"
    assert all(p["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"] if p["type"] != "row")
