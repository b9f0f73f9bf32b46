"""Re-running only the systems of a finished job that failed or were cancelled."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEntry
from etl.exceptions import JobStateConflict
from etl.models import Job, Status
from etl.services import job_finish, job_rerun_failed

pytestmark = pytest.mark.django_db


def _finish(job: Job, outcomes: dict[str, str]) -> None:
    for step in job.steps.select_related("system"):
        step.status = outcomes[step.system.code]
        step.save(update_fields=["status"])
    job_finish(job_id=job.pk, status=Status.ERROR, summary="one failed")


def test_only_the_failed_and_cancelled_systems_run_again_linked_to_the_old_job(
    make_system: Any, start_job: Any, no_enqueue: None, operator: Any
) -> None:
    for code in ("maps", "fidc", "amplis"):
        make_system(code)
    job = start_job("maps", "fidc", "amplis", options={"data_inicial": "2025-01-10", "data_final": "2025-01-12"})
    _finish(job, {"maps": "success", "fidc": "error", "amplis": "cancelled"})

    new = job_rerun_failed(job_id=job.pk, acting_user=operator)

    assert new.systems == ["fidc", "amplis"]
    assert new.rerun_of_id == job.pk
    assert new.options == {"data_inicial": "2025-01-10", "data_final": "2025-01-12"}
    entry = AuditEntry.objects.filter(action="job.rerun", target=f"job:{new.pk}").first()
    assert entry is not None


def test_a_job_where_every_system_succeeded_has_nothing_to_rerun(
    make_system: Any, start_job: Any, no_enqueue: None, operator: Any
) -> None:
    make_system("maps")
    job = start_job("maps")
    _finish(job, {"maps": "success"})
    with pytest.raises(JobStateConflict, match="no failed or cancelled"):
        job_rerun_failed(job_id=job.pk, acting_user=operator)
