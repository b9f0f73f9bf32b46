"""`manage.py worker` as production runs it: a separate process that runs the jobs the web tier queued."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUEUE_JOB = """
import sys
from etl import services
system = services.system_save(code="quick", name="QUICK", base_url="http://127.0.0.1:9",
                              command_name="quick", acting_user=None)
services.credential_save(system_id=system.pk, url="http://127.0.0.1:9", username="u", password="p-quick-1",
                         acting_user=None)
job = services.job_execute(systems=["quick"], options={"data_inicial": "2025-01-15"}, acting_user=None)
print(f"JOB={job.pk}")
"""


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "SECRET"))}
    env.update(RESYNC_VAR_DIR=str(var_dir), RESYNC_WORKER_METRICS_PORT="0", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    env["ETL_COMMANDS"] = json.dumps({"quick": [sys.executable, "-c", "print('[INFO] [QUICK] report done')"]})
    return env


def _manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _job_status(var_dir: Path, job_id: int) -> str:
    with sqlite3.connect(var_dir / "resync.sqlite3", timeout=10) as db:
        row = db.execute("SELECT status FROM etl_job WHERE id = ?", (job_id,)).fetchone()
    return str(row[0]) if row else "missing"


def test_worker_runs_a_job_queued_by_another_process_and_schedules_the_periodic_tasks(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _manage("migrate", "--no-input", "-v", "0", env=env)
    out = _manage("shell", "-c", QUEUE_JOB, env=env)  # the job is queued by a process that then exits
    job_id = int(next(line[4:] for line in out.splitlines() if line.startswith("JOB=")))
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        status = _job_status(tmp_path, job_id)
        while status in {"pending", "running"} and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
            status = _job_status(tmp_path, job_id)
        assert status == "success", f"the worker did not run job {job_id} (status {status}):\n{log_path.read_text()}"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    scheduled = next((r["periodic_tasks"] for r in records if "periodic_tasks" in r), None)
    assert scheduled is not None, "the worker did not log its periodic tasks (phase initialize_schedulers)"
    assert any(name.endswith("tws.tasks.plan_sync_task") for name in scheduled), scheduled
    assert "etl.tasks.reap_jobs_task" in scheduled, scheduled
    assert "cachemig.tasks.flags_guard_sweep" in scheduled, scheduled
