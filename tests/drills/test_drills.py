"""Fault drills on the whole stack as in production (docs/drills.md).

One stack for the module; the drills run in file order, each leaving the stack healthy for the next.
After each drill: the audit chain verifies and holds exactly the entries of the audited actions that got a
2xx, no job is pending or running, and the metrics the alert rules read (ops/prometheus/alerts.yml) moved.
Durations are recorded in ``stack.figures`` for the docs; nothing here asserts on wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import signal
import time
from typing import Any
from urllib.parse import quote

import psutil
import psycopg
import pytest

from tests.drills.conftest import ADMIN, Stack, metric_value, wait_for

pytestmark = pytest.mark.drill

CLI_ACTOR = f"cli:{getpass.getuser()}"
CACHE_FLAG = "MIGRATION_USE_NEW_CACHE"


class AuditLedger:
    """Count the audited actions a drill got a 2xx for, to compare with the chain afterwards."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.before = {actor: stack.audit_count(actor=actor) for actor in (ADMIN, CLI_ACTOR)}
        self.expected = dict.fromkeys(self.before, 0)

    def accepted(self, actor: str = ADMIN) -> None:
        self.expected[actor] += 1

    def check(self) -> None:
        verified = self.stack.manage("audit_verify")
        assert verified.returncode == 0, f"audit_verify failed: {verified.stdout}{verified.stderr}"
        for actor, before in self.before.items():
            now = self.stack.audit_count(actor=actor)
            assert now - before == self.expected[actor], (
                f"audit entries of {actor}: {now - before} new, but {self.expected[actor]} audited actions got a 2xx"
            )


def settle(stack: Stack, ledger: AuditLedger) -> None:
    """Check what every drill must leave behind: a whole audit chain, no stuck job, no failed verification."""
    wait_for("no ETL job pending or running", lambda: not stack.active_jobs(), timeout=60)
    ledger.check()
    for text in (stack.metrics(), stack.worker_metrics()):
        assert metric_value(text, "audit_verify_failures_total") == 0
        assert metric_value(text, "audit_buffer_depth") == 0
    assert stack.procs["web"].poll() is None, "the web process died"
    assert stack.procs["worker"].poll() is None, "the worker process died"


def _job(stack: Stack, job_id: int) -> dict[str, Any]:
    response = stack.get(f"/api/jobs/{job_id}")
    response.raise_for_status()
    return dict(response.json())


def _execute(stack: Stack, ledger: AuditLedger, *, days: int = 1) -> int:
    start = dt.date(2025, 1, 6)
    payload = {
        "sistemas": ["maps"],
        "data_inicial": start.isoformat(),
        "data_final": (start + dt.timedelta(days=days - 1)).isoformat(),
    }
    response = stack.post("/api/execute", json=payload)
    assert response.status_code == 202, response.text
    ledger.accepted()
    return int(response.json()["id"])


def _finished(stack: Stack, job_id: int, *, timeout: float = 90) -> dict[str, Any]:
    return wait_for(
        f"job {job_id} finishing",
        lambda: (job := _job(stack, job_id))["status"] not in {"pending", "running"} and job,
        timeout=timeout,
    )


# --- 1. TWS simulator down and back -------------------------------------------------------------------
def test_tws_down_opens_the_breaker_answers_fast_and_recovers(stack: Stack) -> None:
    ledger = AuditLedger(stack)
    synced = wait_for(
        "a successful plan sync before the drill",
        lambda: (s := stack.get("/api/tws/status").json())["last_sync"]["outcome"] == "ok" and s,
        timeout=60,
    )
    assert synced["circuit_state"] == "closed"
    # Percent-encoded: a v1 id is WORKSTATION;JOBSTREAM_ID;JOBNAME (docs/tws-compat.md, "Identifiers").
    job_id = quote(stack.get("/api/tws/jobs", params={"limit": 1}).json()["items"][0]["hwa_id"], safe="")
    errors_before = metric_value(stack.metrics(), "tws_requests_total", outcome="error")
    opens_before = metric_value(stack.metrics(), "tws_circuit_open_total")

    stack.stop("sim", signal.SIGKILL)
    down_at = time.monotonic()
    answers: list[tuple[int, str, float]] = []

    def circuit_open() -> bool:
        started = time.monotonic()
        response = stack.get(f"/api/tws/jobs/{job_id}/status")  # live: TWS_CACHE_TTL_STATUS=0
        answers.append((response.status_code, response.json().get("code", ""), time.monotonic() - started))
        return response.json().get("code") == "tws_circuit_open"

    wait_for("the TWS circuit opening after the simulator died", circuit_open, timeout=60, every=0.1)
    stack.figures["tws: time to breaker open (s)"] = time.monotonic() - down_at
    stack.figures["tws: slowest API answer while down (s)"] = max(seconds for *_, seconds in answers)
    assert all(status in {503, 504} for status, *_ in answers), answers
    assert {code for _, code, _ in answers} <= {"tws_unreachable", "tws_timeout", "tws_circuit_open"}, answers

    text = stack.metrics()
    assert metric_value(text, "tws_circuit_state") == 2  # TWSCircuitOpen: max(tws_circuit_state) == 2
    assert metric_value(text, "tws_circuit_open_total") > opens_before
    assert metric_value(text, "tws_requests_total", outcome="error") > errors_before  # TWSErrorRatioHigh
    health = stack.health_detailed()
    assert health.status_code == 200  # TWS is not critical: the console stays up
    assert health.json()["components"]["tws"]["status"] == "degraded"
    refused = stack.post(f"/api/tws/jobs/{job_id}/actions/hold")
    assert refused.status_code == 503, refused.text  # not audited: TWS never got it

    stack.sim_start()
    back_at = time.monotonic()
    wait_for(
        "the TWS API answering again with its breaker closed (half-open probes passed)",
        lambda: (
            stack.get(f"/api/tws/jobs/{job_id}/status").status_code == 200
            and metric_value(stack.metrics(), "tws_circuit_state") == 0
        ),
        timeout=60,
    )
    stack.figures["tws: breaker closed after the simulator came back (s)"] = time.monotonic() - back_at
    back_wall = dt.datetime.now(dt.UTC)
    wait_for(
        "the monitor syncing the plan again",
        lambda: (
            (s := stack.get("/api/tws/status").json()["last_sync"])["outcome"] == "ok"
            and dt.datetime.fromisoformat(s["finished_at"].replace("Z", "+00:00")) > back_wall
        ),
        timeout=60,
    )
    stack.figures["tws: first successful sync after the simulator came back (s)"] = time.monotonic() - back_at
    assert metric_value(stack.worker_metrics(), "tws_circuit_state") == 0
    accepted = stack.post(f"/api/tws/jobs/{job_id}/actions/hold")
    assert accepted.status_code == 202, accepted.text
    ledger.accepted()
    wait_for(
        "the TWS health component ok",
        lambda: stack.health_detailed().json()["components"]["tws"]["status"] == "ok",
    )
    settle(stack, ledger)


# --- 2. Redis down and back ---------------------------------------------------------------------------
def _canary_percent(stack: Stack) -> int:
    """Return a canary percentage (below 100) that routes the stats key and the web's health key to Redis."""
    from django.utils import timezone

    from cachemig.flags.evaluation import normalized_value

    keys = [f":1:etl:stats:v1:{timezone.localdate().isoformat()}:30", f":1:resync:health:{stack.procs['web'].pid}"]
    buckets = sorted(normalized_value(CACHE_FLAG, key) for key in keys)
    percent = buckets[-1] if buckets[-1] < 100 else buckets[0]
    assert percent < 100, "both keys fall in bucket 100: no canary percentage routes them"
    return percent


def _auto_rollbacks(stack: Stack) -> float:
    """Return flag_auto_rollbacks_total of the cache flag summed over the web and the worker."""
    texts = (stack.metrics(), stack.worker_metrics())
    return sum(metric_value(text, "flag_auto_rollbacks_total", flag=CACHE_FLAG) for text in texts)


def test_redis_down_falls_back_rolls_the_cache_flag_back_and_recovers(stack: Stack) -> None:
    ledger = AuditLedger(stack)
    percent = _canary_percent(stack)
    rolled = stack.manage("rollout", CACHE_FLAG, "--to", str(percent), "--reason", "fault drill canary")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    ledger.accepted(CLI_ACTOR)
    wait_for(
        "web traffic reaching the new cache",
        lambda: (
            stack.get("/api/stats").status_code == 200
            and stack.health_detailed().status_code == 200
            and metric_value(stack.metrics(), "migration_new_hits_total")
            + metric_value(stack.metrics(), "migration_cache_misses_total", side="new")
            > 0
        ),
        timeout=30,
    )
    fallbacks_before = metric_value(stack.metrics(), "migration_fallbacks_total")
    rollbacks_before = _auto_rollbacks(stack)

    stack.stop("redis", signal.SIGKILL)
    down_at = time.monotonic()
    for _ in range(25):
        for path in ("/api/stats", "/api/jobs"):
            response = stack.get(path)
            assert response.status_code == 200, f"{path} while Redis is down: {response.status_code} {response.text}"
        health = stack.health_detailed()
        assert health.status_code == 200, health.text  # Redis is not critical: the console stays up
    assert health.json()["components"]["cache_migration"]["status"] == "degraded"
    assert metric_value(stack.metrics(), "migration_fallbacks_total") > fallbacks_before  # CacheFallbackSpike

    flags = wait_for(
        "the cache flag rolled back automatically",
        lambda: (f := {f["name"]: f for f in stack.get("/api/flags").json()})[CACHE_FLAG]["percent"] == 0 and f,
        timeout=60,
    )
    stack.figures["redis: automatic rollback after Redis went down (s)"] = time.monotonic() - down_at
    assert flags[CACHE_FLAG]["reason"].startswith("auto:"), flags[CACHE_FLAG]

    stack.redis_start()
    back_at = time.monotonic()

    def green() -> bool:
        response = stack.health_detailed()
        components = response.json()["components"]
        wanted = ("cache:new", "cache_migration", "huey", "channel_layer")
        return response.status_code == 200 and all(components[name]["status"] == "ok" for name in wanted)

    wait_for("health green again after Redis came back", green, timeout=60)
    stack.figures["redis: health green after Redis came back (s)"] = time.monotonic() - back_at
    # FlagAutoRollbackFired: increase(flag_auto_rollbacks_total[10m]) > 0 over every scraped process.
    assert _auto_rollbacks(stack) > rollbacks_before
    settle(stack, ledger)


# --- 3. A worker killed with SIGKILL mid-job ------------------------------------------------------------
def _step_processes(stack: Stack, job_id: int) -> list[psutil.Process]:
    """Return the live processes of the job's recorded step pids and process groups."""
    with psycopg.connect(host="127.0.0.1", port=stack.ports["pg"], user="postgres", dbname="resync") as conn:
        rows = conn.execute("SELECT pid, pgid FROM etl_jobstep WHERE job_id = %s", (job_id,)).fetchall()
    pids = {pid for pid, _ in rows if pid}
    groups = {pgid for _, pgid in rows if pgid}
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.pid in pids or os.getpgid(proc.pid) in groups:
                found.append(proc)
        except (psutil.Error, ProcessLookupError):
            continue
    return found


def test_worker_sigkill_mid_job_is_reaped_and_a_rerun_succeeds(stack: Stack) -> None:
    ledger = AuditLedger(stack)
    stack.stop("demo")
    stack.demo_start(delay_ms=400)  # a slow source: the job is still running when its worker dies
    job_id = _execute(stack, ledger, days=10)
    wait_for(
        f"job {job_id} running with its step's process recorded",
        lambda: _job(stack, job_id)["status"] == "running" and _step_processes(stack, job_id),
        timeout=60,
    )
    tree = _step_processes(stack, job_id)
    # The reaper runs in every web and worker process: whichever marks the job counts it on its own /metrics,
    # and ETLFailureSpike sums them (the restarted worker's counter starts from 0).
    web_errors_before = metric_value(stack.metrics(), "etl_jobs_total", status="error")

    old_worker = stack.procs["worker"]
    stack.stop("worker", signal.SIGKILL)
    killed_at = time.monotonic()
    assert old_worker.returncode == -signal.SIGKILL
    assert tree, "the step was running when its worker died"
    # No reaper yet (no worker runs): the step's guard ended its whole process group with the worker.
    wait_for("the step's tree gone with its worker", lambda: not _step_processes(stack, job_id), timeout=10)
    stack.worker_start()

    job = wait_for(
        f"job {job_id} marked error by the reaper",
        lambda: (j := _job(stack, job_id))["status"] == "error" and j,
        timeout=60,
    )
    stack.figures["worker kill: reaper marked the job (s)"] = time.monotonic() - killed_at
    assert job["error_summary"] == "worker lost", job
    assert all(step["status"] in {"error", "cancelled"} for step in job["steps"]), job["steps"]
    wait_for("every process of the job's tree gone", lambda: not _step_processes(stack, job_id), timeout=10)
    text = stack.worker_metrics()
    errors_after = metric_value(text, "etl_jobs_total", status="error")
    errors_after += metric_value(stack.metrics(), "etl_jobs_total", status="error")
    assert errors_after > web_errors_before  # ETLFailureSpike
    assert metric_value(text, "resync_process_heartbeat_timestamp_seconds", role="worker") > 0  # NoWorkerAlive

    stack.stop("demo")
    stack.demo_start()
    rerun = stack.post(f"/api/jobs/{job_id}/rerun")
    assert rerun.status_code == 202, rerun.text
    ledger.accepted()
    finished = _finished(stack, int(rerun.json()["id"]), timeout=120)
    assert finished["status"] == "success", finished
    settle(stack, ledger)


# --- 4. PostgreSQL restart -----------------------------------------------------------------------------
def test_postgres_restart_answers_503_then_the_same_processes_serve_again(stack: Stack) -> None:
    """Stop PostgreSQL (fast), probe the web while it is down, start it; then `pg_ctl restart -m fast` too.

    A bare restart is over in well under a second: too short to see what the web answers meanwhile, so
    the outage is first held open between a stop and a start.
    """
    ledger = AuditLedger(stack)
    web_pid, worker_pid = stack.procs["web"].pid, stack.procs["worker"].pid
    stopped = stack.pg_ctl("stop", "-m", "fast")
    assert stopped.returncode == 0, stopped.stderr
    down_at = time.monotonic()
    slowest = 0.0
    for _ in range(3):
        for path in ("/health/detailed", "/api/jobs"):
            started = time.monotonic()
            response = (
                stack.health_detailed() if path == "/health/detailed" else stack.get(path)
            )  # the client's timeout bounds a hang
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 503, f"{path} with PostgreSQL down: {response.status_code} {response.text}"
            if path.startswith("/api/"):
                assert set(response.json()) >= {"detail", "code"}, response.text
    refused = stack.post("/api/execute", json={"sistemas": ["maps"], "data_inicial": "2025-01-06"})
    assert refused.status_code == 503, refused.text  # not accepted, so not audited
    assert stack.get("/health").status_code == 200  # liveness does no I/O
    stack.figures["postgres: slowest answer during the outage (s)"] = slowest

    started = stack.pg_ctl("start")
    assert started.returncode == 0, started.stderr
    stack.figures["postgres: outage length (s)"] = time.monotonic() - down_at
    back_at = time.monotonic()
    wait_for(
        "the web serving from PostgreSQL again",
        lambda: stack.health_detailed().status_code == 200 and stack.get("/api/jobs").status_code == 200,
        timeout=60,
    )
    stack.figures["postgres: web serving again after the restart (s)"] = time.monotonic() - back_at
    restarted = stack.pg_ctl("restart", "-m", "fast")  # and the operator's one-liner, outage under a second
    assert restarted.returncode == 0, restarted.stderr
    back_at = time.monotonic()
    wait_for(
        "the web serving again after pg_ctl restart -m fast",
        lambda: stack.health_detailed().status_code == 200 and stack.get("/api/jobs").status_code == 200,
        timeout=60,
    )
    stack.figures["postgres: web serving again after pg_ctl restart -m fast (s)"] = time.monotonic() - back_at
    job_id = _execute(stack, ledger)
    finished = _finished(stack, job_id)
    stack.figures["postgres: first job after the restart done (s)"] = time.monotonic() - back_at
    assert finished["status"] == "success", finished
    assert (stack.procs["web"].pid, stack.procs["worker"].pid) == (web_pid, worker_pid)
    assert stack.procs["web"].poll() is None
    assert stack.procs["worker"].poll() is None
    settle(stack, ledger)


def test_no_process_of_the_stack_is_left_behind_by_the_drills(stack: Stack) -> None:
    for name in list(stack.procs):
        stack.stop(name)
    wait_for("every process of the stack (ETL steps included) gone", lambda: not stack.leftovers(), timeout=30)
