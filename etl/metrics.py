"""Prometheus metrics of the etl app (names fixed by DESIGN.md §4.6)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOBS_TOTAL = Counter("etl_jobs_total", "ETL jobs that reached a final status", ["status"])
JOB_DURATION = Histogram(
    "etl_job_duration_seconds",
    "Duration of finished ETL jobs",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
LOG_LINES_TOTAL = Counter("etl_log_lines_total", "Log lines of ETL jobs persisted")
