"""A job's progress is the mean of its steps' progress."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from etl.models import Job
from etl.services import step_lines_append

pytestmark = pytest.mark.django_db


def test_job_progress_follows_the_mean_of_its_steps(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system("maps")
    make_system("fidc")
    job = start_job("maps", "fidc")
    first, second = job.steps.order_by("order")
    now = timezone.now()
    step_lines_append(
        job_id=job.pk,
        step_id=first.pk,
        rows=[(1, now, "INFO", "maps", "a")],
        progress=100,
        line_count=1,
        status_text="",
    )
    step_lines_append(
        job_id=job.pk,
        step_id=second.pk,
        rows=[(2, now, "INFO", "fidc", "b")],
        progress=50,
        line_count=1,
        status_text="",
    )
    assert Job.objects.get(pk=job.pk).progress == 75
