"""Prometheus metrics of the TWS client (names of DESIGN.md §4.6)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("tws_requests", "Logical TWS calls by operation and outcome", ["operation", "outcome"])
RETRIES = Counter("tws_retries", "Retried TWS HTTP attempts")
LATENCY = Histogram(
    "tws_request_latency_seconds",
    "Latency of logical TWS calls (retries included)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CIRCUIT_STATE = Gauge("tws_circuit_state", "Circuit state: 0 closed, 1 half-open, 2 open")
CIRCUIT_OPENS = Counter("tws_circuit_open", "Times the TWS circuit opened")
CACHE = Counter("tws_cache_requests", "TWS answers looked up in the cache", ["kind", "outcome"])
CRITICAL_AT_RISK = Gauge("tws_critical_jobs_at_risk", "Critical jobs that will start after their critical start")
SYNC_SECONDS = Histogram("tws_plan_sync_seconds", "Duration of plan syncs", buckets=(0.5, 1, 2, 5, 10, 20, 40, 80))


def counter_value(counter: Counter, **labels: str) -> float:
    """Return the current value of ``counter`` (with ``labels``)."""
    metric = counter.labels(**labels) if labels else counter
    return float(metric._value.get())
