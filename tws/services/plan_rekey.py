"""Carry the synced plan over to the other API's ids when TWS_UNIFIED_V2_ENABLED switches.

API v2 names a job by a UUID, API v1 by WORKSTATION;JOBSTREAM_ID;JOBNAME (docs/tws-compat.md,
"Identifiers"). Without this, the first sync after a switch would see every job as gone and new:
no transition recorded, and every job in ERROR alerted again under its new id.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TypeVar

from tws.hwa.rows import Row
from tws.models import Alert, JobInPlan, JobStatusTransition, SyncRun

BATCH = 2000
NaturalKey = tuple[str, str, float | None, str]
V = TypeVar("V")


def _key(workstation: str, job_stream: str, sched_time: datetime | None, name: str) -> NaturalKey:
    # A job stream instance is workstation#jobstream(schedtime); a job is unique by name inside it.
    return (workstation, job_stream, sched_time.timestamp() if sched_time else None, name)


def _unique(keys: list[tuple[NaturalKey, V]]) -> dict[NaturalKey, V]:
    counts = Counter(k for k, _ in keys)
    return {k: v for k, v in keys if counts[k] == 1}


def last_api_version() -> str | None:
    """Return the API version of the last successful sync, if any."""
    return (
        SyncRun.objects.filter(outcome="ok")
        .order_by("-finished_at", "-id")
        .values_list("api_version", flat=True)
        .first()
    )


def plan_rekey(*, rows: list[Row]) -> int:
    """Give synced jobs, their transitions and open alerts the ids of ``rows``; return how many jobs moved.

    Jobs are matched on workstation, job stream, scheduled time and name; a key that is not unique on
    either side is left alone (that job is then replaced, as before).
    """
    fresh = _unique([(_key(r[4], r[2], r[7], r[1]), r[0]) for r in rows])
    stored = JobInPlan.objects.values_list("pk", "hwa_id", "workstation", "job_stream", "sched_time", "name")
    old = _unique([(_key(ws, js, at, name), (pk, hwa_id)) for pk, hwa_id, ws, js, at, name in stored])
    taken = set(JobInPlan.objects.values_list("hwa_id", flat=True))
    moves: dict[str, tuple[int, str]] = {}  # old id -> (row, new id)
    for key, (pk, old_id) in old.items():
        new_id = fresh.get(key)
        if new_id is not None and new_id != old_id and new_id not in taken:
            moves[old_id] = (pk, new_id)
    JobInPlan.objects.bulk_update(
        [JobInPlan(pk=pk, hwa_id=new_id) for pk, new_id in moves.values()], ["hwa_id"], batch_size=BATCH
    )
    olds = list(moves)
    for start in range(0, len(olds), BATCH):
        chunk = olds[start : start + BATCH]
        history = [
            JobStatusTransition(pk=pk, job_hwa_id=moves[hwa_id][1])
            for pk, hwa_id in JobStatusTransition.objects.filter(job_hwa_id__in=chunk).values_list("pk", "job_hwa_id")
        ]
        JobStatusTransition.objects.bulk_update(history, ["job_hwa_id"], batch_size=BATCH)
        open_alerts = Alert.objects.filter(
            kind="job_error", acknowledged_at__isnull=True, target__in=[f"job:{h}" for h in chunk]
        )
        Alert.objects.bulk_update(
            [Alert(pk=a.pk, target=f"job:{moves[a.target[4:]][1]}") for a in open_alerts.only("pk", "target")],
            ["target"],
            batch_size=BATCH,
        )
    return len(moves)
