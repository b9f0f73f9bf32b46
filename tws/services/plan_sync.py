"""The plan monitor: sync the current plan into the database with bulk upserts."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tws import conf, metrics, selectors
from tws.exceptions import CircuitOpenError, TWSError
from tws.hwa.contract import Workstation
from tws.hwa.rows import JOB_FIELDS, Row, signature
from tws.models import JobInPlan, JobStatusTransition, JobStream, SyncRun
from tws.models import Workstation as WorkstationRow
from tws.services.alerts import alert_raise, alerts_raise_many
from tws.services.bridge import run_async
from tws.services.plan_rekey import last_api_version, plan_rekey
from tws.services.upsert import db_datetime, upsert

log = logging.getLogger(__name__)
BATCH = 2000
UPSERT_COLUMNS = (*JOB_FIELDS, "signature", "synced_at")


@dataclass
class FetchedPlan:
    """What one fetch brought back."""

    rows: list[Row] = field(default_factory=list)
    workstations: list[Workstation] = field(default_factory=list)
    api_version: str = "v2"


@dataclass(frozen=True)
class SyncResult:
    """The outcome of one sync."""

    ok: bool
    jobs_seen: int = 0
    jobs_changed: int = 0
    jobs_removed: int = 0
    transitions: int = 0
    alerts_opened: int = 0
    detail: str = ""


async def plan_fetch(*, settings: Any = None) -> FetchedPlan:
    """Read every job and workstation of the current plan through the unified client."""
    from tws.hwa.client import get_tws_client

    client = await get_tws_client(settings=settings)
    fetched = FetchedPlan()
    try:
        backend = await client.backend()
        fetched.api_version = backend.api_version
        async for page in backend.iter_job_rows(page_size=int(conf.get("TWS_SYNC_PAGE_SIZE"))):
            fetched.rows.extend(page)
        fetched.workstations = await backend.get_workstations()
    finally:
        await client.disconnect()
    return fetched


def _store_jobs(rows: list[Row], now: datetime) -> tuple[int, int, int, list[tuple[str, str]]]:
    existing: dict[str, tuple[str, str]] = {
        h: (sig, status)
        for h, sig, status in JobInPlan.objects.values_list("hwa_id", "signature", "status").iterator(chunk_size=10000)
    }
    changed: list[tuple[Any, ...]] = []
    transitions: list[JobStatusTransition] = []
    new_errors: list[tuple[str, str]] = []
    synced_at = db_datetime(now)
    for row in rows:
        sig = signature(row)
        before = existing.get(row[0])
        if before is not None and before[0] == sig:
            continue
        changed.append((*row[:7], db_datetime(row[7]), db_datetime(row[8]), db_datetime(row[9]), row[10], row[11],
                        db_datetime(row[12]), sig, synced_at))  # fmt: skip
        old_status = before[1] if before is not None else None
        if old_status != row[5]:
            if old_status is not None:
                transitions.append(
                    JobStatusTransition(
                        job_hwa_id=row[0], job_name=row[1], from_status=old_status, to_status=row[5], at=now
                    )
                )
            if row[5] == "ERROR":
                new_errors.append(
                    (f"job:{row[0]}", f"{row[4]}#{row[2]}.{row[1]} ended in ERROR ({row[6]}, rc={row[10]})")
                )
    upsert(JobInPlan, columns=UPSERT_COLUMNS, rows=changed, unique="hwa_id")
    JobStatusTransition.objects.bulk_create(transitions, batch_size=BATCH)
    seen = {r[0] for r in rows}
    gone = [k for k in existing if k not in seen]
    for start in range(0, len(gone), BATCH):
        JobInPlan.objects.filter(hwa_id__in=gone[start : start + BATCH]).delete()
    return len(changed), len(gone), len(transitions), new_errors


def _store_streams(rows: list[Row], now: datetime) -> None:
    streams = {r[3]: (r[2], r[4]) for r in rows if r[3]}
    existing = {h: (n, w) for h, n, w in JobStream.objects.values_list("hwa_id", "name", "workstation")}
    synced_at = db_datetime(now)
    changed = [(h, n, w, synced_at) for h, (n, w) in streams.items() if existing.get(h) != (n, w)]
    upsert(JobStream, columns=("hwa_id", "name", "workstation", "synced_at"), rows=changed, unique="hwa_id")
    gone = [h for h in existing if h not in streams]
    for start in range(0, len(gone), BATCH):
        JobStream.objects.filter(hwa_id__in=gone[start : start + BATCH]).delete()


def _store_workstations(workstations: list[Workstation], now: datetime) -> list[tuple[str, str]]:
    rows = [
        WorkstationRow(
            name=w.name, hwa_id=w.id, type=w.type, link_state=w.link_state, limit=w.limit, fence=w.fence, synced_at=now
        )
        for w in workstations
    ]
    WorkstationRow.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["hwa_id", "type", "link_state", "limit", "fence", "synced_at"],
    )
    WorkstationRow.objects.exclude(name__in=[w.name for w in workstations]).delete()
    return [
        (f"workstation:{w.name}", f"workstation {w.name} ({w.type}) is unlinked")
        for w in workstations
        if w.link_state == "unlinked"
    ]


def _at_risk(now: datetime) -> list[tuple[str, str]]:
    at_risk = selectors.critical_at_risk(now=now)
    metrics.CRITICAL_AT_RISK.set(len(at_risk))
    return [
        (
            f"job:{r.job.hwa_id}",
            f"{r.job.workstation}#{r.job.job_stream}.{r.job.name} (critical) expected to start "
            f"{int(r.lateness.total_seconds() // 60)} min after its critical start",
        )
        for r in at_risk
    ]


def plan_store(*, fetched: FetchedPlan, started_at: datetime | None = None) -> SyncResult:
    """Upsert a fetched plan, record transitions and raise alerts (one transaction)."""
    now = timezone.now()
    with transaction.atomic():
        if last_api_version() not in (None, fetched.api_version):
            moved = plan_rekey(rows=fetched.rows)
            log.info("tws plan re-keyed to API %s ids: %s jobs", fetched.api_version, moved)
        changed, removed, transitions, new_errors = _store_jobs(fetched.rows, now)
        _store_streams(fetched.rows, now)
        unlinked = _store_workstations(fetched.workstations, now) if fetched.workstations else []
        opened = alerts_raise_many(kind="job_error", items=new_errors)
        opened += alerts_raise_many(kind="workstation_unlinked", items=unlinked)
        opened += alerts_raise_many(kind="critical_at_risk", items=_at_risk(now))
        SyncRun.objects.create(
            started_at=started_at or now,
            finished_at=timezone.now(),
            outcome="ok",
            api_version=fetched.api_version,
            jobs_seen=len(fetched.rows),
            jobs_changed=changed,
        )
    return SyncResult(
        ok=True,
        jobs_seen=len(fetched.rows),
        jobs_changed=changed,
        jobs_removed=removed,
        transitions=transitions,
        alerts_opened=opened,
    )


def plan_sync(*, settings: Any = None) -> SyncResult:
    """Fetch the current plan from TWS and store it; a failure is recorded and alerted, never raised."""
    started_at = timezone.now()
    t0 = time.perf_counter()
    try:

        async def fetch() -> FetchedPlan:
            return await plan_fetch(settings=settings)

        fetched = run_async(fetch)
    except TWSError as exc:
        detail = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("tws plan sync failed: %s", detail)
        SyncRun.objects.create(started_at=started_at, finished_at=timezone.now(), outcome="failed", detail=detail)
        if isinstance(exc, CircuitOpenError):
            alert_raise(kind="circuit_open", target="tws", message="the circuit to TWS is open: calls are rejected")
        alert_raise(kind="sync_failing", target="tws", message=f"plan sync failing: {detail}")
        return SyncResult(ok=False, detail=detail)
    result = plan_store(fetched=fetched, started_at=started_at)
    metrics.SYNC_SECONDS.observe(time.perf_counter() - t0)
    log.info(
        "tws plan synced: %s jobs, %s changed, %s transitions",
        result.jobs_seen,
        result.jobs_changed,
        result.transitions,
    )
    return result
