"""The gauge the ETLJobsPastTimeout alert reads counts steps running past their system's timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from etl.models import JobStep, Status

pytestmark = pytest.mark.django_db


def _overdue(client: Client) -> float:
    body = client.get("/metrics").content.decode()
    line = next(line for line in body.splitlines() if line.startswith("etl_jobs_running_overdue "))
    return float(line.split()[1])


def test_a_step_running_past_its_timeout_is_counted(
    client: Client, make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    settings.ETL_STEP_TIMEOUT_SECONDS = {"*": 60}
    make_system("maps")
    job = start_job("maps")
    step = JobStep.objects.get(job=job)
    assert _overdue(client) == 0
    JobStep.objects.filter(pk=step.pk).update(status=Status.RUNNING, started_at=timezone.now() - timedelta(seconds=30))
    assert _overdue(client) == 0
    JobStep.objects.filter(pk=step.pk).update(started_at=timezone.now() - timedelta(seconds=61))
    assert _overdue(client) == 1
