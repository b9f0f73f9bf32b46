"""A seeded, realistic HWA plan whose jobs move through their states as time passes."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from tws.hwa.ids import v1_job_id

Outcome = Literal["succ", "abend", "held", "cancel"]
WS_TYPES = ("AGENT", "FTA", "POOL")
OS_BY_TYPE = {"AGENT": "LINUX", "FTA": "UNIX", "POOL": "LINUX"}
# v1 internal status spelled as the v1 NodeStatus description lists them.
V1_INTERNAL = {"CANCL": "CANCEL", "CANCLP": "CANCELP", "FAIL": "FAILED"}


@dataclass(slots=True)
class SimWorkstation:
    """A workstation in plan."""

    id: str
    name: str
    type: str
    linked: bool
    outages: list[tuple[float, float]] = field(default_factory=list)  # plan-clock windows with the link down
    limit: int = 50  # job limit
    fence: int = 0  # job fence (priority at or below it: the job does not start)


@dataclass(slots=True)
class SimJobStream:
    """A job stream instance in plan (``id`` for v2, ``jsid`` the engine's own id, used by v1)."""

    id: str
    name: str
    workstation: int
    sched_offset: float
    jsid: str = ""


@dataclass(slots=True)
class SimJob:
    """A job in plan (``id`` for v2, ``v1_id`` for v1): its timeline is relative to the plan clock (seconds)."""

    id: str
    name: str
    stream: int
    workstation: int
    ready_at: float
    start_at: float
    duration: float
    outcome: Outcome
    return_code: int
    run_number: int = 1
    run_ids: list[str] = field(default_factory=list)
    v1_id: str = ""
    critical_start: float | None = None  # plan-clock instant a critical job must start by


@dataclass(frozen=True, slots=True)
class JobState:
    """What a job looks like at one instant."""

    common: str
    internal: str
    started: datetime | None
    ended: datetime | None
    return_code: int | None


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def engine_jobstream_id(index: int) -> str:
    """Return a job stream instance id shaped like the engine's (16 alphanumeric characters)."""
    return f"0AAAAAAAAAA{index + 1:05X}"


class SimPlan:
    """The current plan: workstations, job streams and jobs generated from ``seed``."""

    def __init__(self, *, jobs: int = 1000, seed: int = 1, speed: float = 1.0) -> None:
        rng = random.Random(seed)
        self.seed, self.speed = seed, speed
        self.plan_id = _uuid(rng)
        self.epoch = datetime.now(tz=UTC).replace(microsecond=0)
        self._t0 = time.monotonic()
        self._frozen_at: float | None = None
        n_ws = max(3, min(400, jobs // 250))
        self.workstations = [
            SimWorkstation(
                id=_uuid(rng),
                name=f"{WS_TYPES[i % 3][:2]}_{'SP' if i % 2 else 'RJ'}{i:03d}",
                type=WS_TYPES[i % 3],
                linked=rng.random() > 0.08,
            )
            for i in range(n_ws)
        ]
        # Links go down and come back during the day; their own generator keeps the plan's ids as they were.
        links = random.Random(f"{seed}:links")
        for ws in self.workstations:
            ws.limit, ws.fence = links.choice((10, 20, 50, 100)), links.choice((0, 0, 0, 10))
            if ws.linked and links.random() < 0.3:
                start = links.uniform(600, 6 * 3600)
                ws.outages.append((start, start + links.uniform(300, 1800)))
        n_streams = max(1, jobs // 12)
        self.streams = [
            SimJobStream(
                id=_uuid(rng),
                name=f"JS_{('FIN', 'RISK', 'ETL', 'BATCH', 'REPORT')[i % 5]}_{i:05d}",
                workstation=rng.randrange(n_ws),
                sched_offset=rng.uniform(-7200, 3600),
                jsid=engine_jobstream_id(i),
            )
            for i in range(n_streams)
        ]
        self.jobs: list[SimJob] = []
        for i in range(jobs):
            stream = i % n_streams
            js = self.streams[stream]
            ready = js.sched_offset + rng.uniform(0, 1800)
            roll = rng.random()
            outcome: Outcome = "succ" if roll < 0.9 else "abend" if roll < 0.96 else "held" if roll < 0.98 else "cancel"
            job = SimJob(
                id=_uuid(rng),
                name=f"JOB_{i:06d}",
                stream=stream,
                workstation=js.workstation if rng.random() < 0.8 else rng.randrange(n_ws),
                ready_at=ready,
                start_at=ready + rng.uniform(0, 120),
                duration=rng.uniform(5, 900),
                outcome=outcome,
                return_code=0 if outcome == "succ" else rng.choice((1, 4, 8, 12, 127)),
            )
            job.run_ids.append(_uuid(rng))
            job.v1_id = v1_job_id(self.workstations[js.workstation].name, js.jsid, job.name)
            self.jobs.append(job)
        # About 3 % of the jobs are critical, their critical start around the planned start (some will be late).
        critical = random.Random(f"{seed}:critical")
        for job in self.jobs:
            if critical.random() < 0.03:
                job.critical_start = job.start_at + critical.uniform(-900, 1800)
        self.by_id = {j.id: j for j in self.jobs}
        self.by_v1_id = {j.v1_id: j for j in self.jobs}
        self.streams_by_id = {s.id: i for i, s in enumerate(self.streams)}
        self.ws_by_key = {w.id: i for i, w in enumerate(self.workstations)}
        self.ws_by_key.update({w.name: i for i, w in enumerate(self.workstations)})
        self.held: set[str] = set()
        self._rng = rng

    # --- clock ------------------------------------------------------------
    def now(self) -> float:
        """Return the plan clock in seconds since the plan epoch."""
        if self._frozen_at is not None:
            return self._frozen_at
        return (time.monotonic() - self._t0) * self.speed

    def freeze(self, frozen: bool) -> None:
        """Stop (or restart) the plan clock, e.g. for an unchanged re-sync."""
        if frozen and self._frozen_at is None:
            self._frozen_at = self.now()
        elif not frozen and self._frozen_at is not None:
            self._t0 = time.monotonic() - self._frozen_at / (self.speed or 1.0)
            self._frozen_at = None

    def at(self, offset: float) -> datetime:
        """Return the instant of a plan-clock offset."""
        return self.epoch + timedelta(seconds=offset)

    # --- workstation links ---------------------------------------------------
    def is_linked(self, index: int, now: float | None = None) -> bool:
        """Return whether workstation ``index`` is linked at plan time ``now``."""
        ws, t = self.workstations[index], self.now() if now is None else now
        return ws.linked and not any(start <= t < end for start, end in ws.outages)

    def unlink(self, index: int, seconds: float) -> None:
        """Take the link of workstation ``index`` down from now for ``seconds`` of plan time."""
        now = self.now()
        self.workstations[index].outages.append((now, now + seconds))

    # --- job state ----------------------------------------------------------
    def state(self, job: SimJob, now: float | None = None) -> JobState:
        """Return the state of ``job`` at plan time ``now``."""
        t = self.now() if now is None else now
        if job.id in self.held or (job.outcome == "held" and t >= job.ready_at):
            return JobState("HELD", "HOLD", None, None, None)
        if t < job.ready_at:
            return JobState("WAITING", "HOLD", None, None, None)
        if job.outcome == "cancel":
            return JobState("CANCELED", "CANCL", None, None, None)
        if t < job.start_at:
            return JobState("READY", "READY", None, None, None)
        started = self.at(job.start_at)
        end = job.start_at + job.duration
        if t < end:
            return JobState("RUNNING", "EXEC", started, None, None)
        if job.outcome == "abend":
            return JobState("ERROR", "ABEND", started, self.at(end), job.return_code)
        return JobState("SUCCESSFUL", "SUCC", started, self.at(end), 0)

    def hold(self, job: SimJob) -> None:
        """Hold ``job`` (it stays HELD until released)."""
        self.held.add(job.id)

    def release(self, job: SimJob) -> None:
        """Release a held job: it becomes ready now."""
        self.held.discard(job.id)
        if job.outcome == "held":
            job.outcome = "succ"
            job.return_code = 0
        job.ready_at = min(job.ready_at, self.now())

    def cancel(self, job: SimJob) -> None:
        """Cancel ``job``."""
        self.held.discard(job.id)
        job.outcome = "cancel"

    def kill(self, job: SimJob) -> None:
        """Kill a running job: it ends in error now."""
        now = self.now()
        if self.state(job, now).common == "RUNNING":
            job.duration = max(0.0, now - job.start_at)
            job.outcome, job.return_code = "abend", 137

    def rerun(self, job: SimJob) -> str:
        """Start a new run of ``job`` now; return the new run id."""
        now = self.now()
        self.held.discard(job.id)
        job.run_number += 1
        job.ready_at, job.start_at = now, now + 1
        job.duration = self._rng.uniform(5, 300)
        job.outcome = "succ"
        job.return_code = 0
        job.run_ids.append(_uuid(self._rng))
        return job.run_ids[-1]

    def joblog(self, job: SimJob) -> str:
        """Return the job's standard list (as the agent would write it)."""
        st = self.state(job)
        ws = self.workstations[job.workstation].name
        lines = [
            "===============================================================",
            f"= JOB       : {ws}#{self.streams[job.stream].name}.{job.name}",
            "= USER      : twsuser",
            f"= JCLFILE   : /opt/hwa/jobs/{job.name.lower()}.sh",
            f"= Job Number: {job.run_number}",
            "===============================================================",
        ]
        if st.started is not None:
            lines.append(f"Started at {st.started.isoformat()}")
            lines.extend(f"step {i}: processed {(i + 1) * 1000} records" for i in range(3))
        if st.ended is not None:
            lines.append(f"Exit Status : {st.return_code}")
            lines.append(f"Ended at {st.ended.isoformat()}")
        return "\n".join(lines) + "\n"
