"""Actions on jobs in plan (hold, release, cancel, kill, rerun), audited with the operator's reason."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from tws.hwa.contract import Job, JobAction
from tws.hwa.rows import row_of, signature
from tws.models import JobInPlan, JobStatusTransition

# What HWA accepts in each common status (release needs HELD, kill RUNNING, rerun a finished run).
_FINISHED = frozenset({"SUCCESSFUL", "ERROR", "CANCELED"})
_NOT_STARTED = frozenset({"WAITING", "WAITING_FOR_TRIGGER", "READY", "READY_PREV_WS_NONREP", "BLOCKED", "UNDECIDED"})
ACTIONS: tuple[JobAction, ...] = ("rerun", "hold", "release", "kill", "cancel")
_ALLOWED: dict[JobAction, frozenset[str]] = {
    "rerun": _FINISHED,
    "hold": _NOT_STARTED,
    "release": frozenset({"HELD"}),
    "kill": frozenset({"RUNNING"}),
    "cancel": _NOT_STARTED | {"HELD", "RUNNING"},
}


def job_actions_allowed(*, status: str) -> list[JobAction]:
    """Return the actions HWA accepts on a job in common status ``status``."""
    return [action for action in ACTIONS if status in _ALLOWED[action]]


async def job_act(*, job_hwa_id: str, action: JobAction, acting_user: Any, reason: str = "") -> None:
    """Ask TWS to run ``action`` on a job, then record who asked and why (the change happens in TWS, not here)."""
    from tws.hwa.client import get_tws_client

    await (await get_tws_client()).act(job_hwa_id, action)
    data: dict[str, Any] = {"action": action}
    if reason:
        data["reason"] = reason
    await audit.arecord(f"tws_job.{action}", actor=acting_user, target=f"tws_job:{job_hwa_id}", data=data)


async def job_act_and_read(*, job_hwa_id: str, action: JobAction, acting_user: Any, reason: str = "") -> Job | None:
    """Run :func:`job_act`, then return the job as HWA now sees it (None if that read fails)."""
    from tws.exceptions import TWSError
    from tws.hwa.client import get_tws_client

    await job_act(job_hwa_id=job_hwa_id, action=action, acting_user=acting_user, reason=reason)
    try:
        return await (await get_tws_client()).get_job(job_hwa_id)
    except TWSError:  # HWA accepted the action; the next sync brings the job's new state
        return None


@transaction.atomic
def job_store(*, job: Job) -> JobInPlan | None:
    """Store HWA's current view of one synced job (and its status transition); None if not synced."""
    stored = JobInPlan.objects.select_for_update().filter(hwa_id=job.id).first()
    if stored is None:
        return None
    row = row_of(job)
    now = timezone.now()
    if stored.status != job.status:
        JobStatusTransition.objects.create(
            job_hwa_id=job.id, job_name=job.name, from_status=stored.status, to_status=job.status, at=now
        )
    stored.status, stored.internal_status, stored.return_code = job.status, job.internal_status, job.return_code
    stored.sched_time, stored.start_time, stored.end_time = job.sched_time, job.start_time, job.end_time
    stored.run_number, stored.critical_start = job.run_number, job.critical_start
    stored.signature, stored.synced_at = signature(row), now
    stored.save()
    return stored


async def job_log(*, job_hwa_id: str) -> str:
    """Return the standard list of the job's last run, as HWA serves it."""
    from tws.hwa.client import get_tws_client

    return (await (await get_tws_client()).get_joblog(job_hwa_id)).text
