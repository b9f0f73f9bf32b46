"""Prometheus metrics of the etl app (names fixed by DESIGN.md §4.6)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("resync.etl.metrics")

JOBS_TOTAL = Counter("etl_jobs_total", "ETL jobs that reached a final status", ["status"])
JOB_DURATION = Histogram(
    "etl_job_duration_seconds",
    "Duration of finished ETL jobs",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
LOG_LINES_TOTAL = Counter("etl_log_lines_total", "Log lines of ETL jobs persisted")


class OverdueStepsCollector:
    """Expose ``etl_jobs_running_overdue``: running steps past their system's timeout, read at scrape time."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Name the metric without a query (the registry calls this at registration, during start-up)."""
        yield GaugeMetricFamily("etl_jobs_running_overdue", "ETL steps still running past their system's timeout")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Count overdue running steps (0 when the database cannot be read)."""
        from django.utils import timezone

        from etl import conf
        from etl.models import JobStep, Status

        gauge = GaugeMetricFamily("etl_jobs_running_overdue", "ETL steps still running past their system's timeout")
        now = timezone.now()
        try:
            running = JobStep.objects.filter(status=Status.RUNNING, started_at__isnull=False).values_list(
                "system__code", "started_at"
            )
            overdue = sum(
                1
                for code, started in running
                if started is not None and (now - started).total_seconds() > conf.step_timeout_seconds(code)
            )
        except Exception:  # one gauge must never break a scrape (database down, no access)
            log.debug("etl_jobs_running_overdue: database not readable", exc_info=True)
            overdue = 0
        gauge.add_metric([], overdue)
        yield gauge


def register_overdue_collector() -> None:
    """Register the overdue-steps collector once per process."""
    if "etl_jobs_running_overdue" not in REGISTRY._names_to_collectors:
        REGISTRY.register(OverdueStepsCollector())
