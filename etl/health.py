"""Health component of etl: job backlog and stuck jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from etl import conf
from etl.models import Job, Status


def check() -> dict[str, Any]:
    """Report pending/running counts; degraded when a running job's heartbeat is stale."""
    stale_before = timezone.now() - timedelta(seconds=conf.get_setting("ETL_STALE_SECONDS"))
    running = Job.objects.filter(status=Status.RUNNING)
    stale = running.filter(heartbeat_at__lt=stale_before).count()
    detail = {
        "pending": Job.objects.filter(status=Status.PENDING).count(),
        "running": running.count(),
        "stale": stale,
    }
    return {"status": "degraded" if stale else "ok", "detail": detail}
