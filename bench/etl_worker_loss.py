"""Benchmark: kill -9 of the worker while its step prints 5,000 lines/s; seconds to "worker lost" and lines lost.

Usage: python bench/etl_worker_loss.py [--runs N] [--database-url URL]
Each run starts a real worker process on a job, kills it with SIGKILL once the step has printed a few
thousand lines, and waits for the reaper loop (the one every web and worker process runs, here in this
process, default settings) to mark the job. The step records each line it printed in a side file after
printing it; a line is lost if it is in that record and not in the database.
Default: a fresh SQLite file (WAL) in a temporary folder, migrated by the script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import os, sys, time
record = open(os.path.join(os.environ["RESYNC_VAR_DIR"], f"printed-{os.environ['ETL_JOB_ID']}"), "a")
i = 0
while True:
    for _ in range(50):
        print(f"[INFO] [MAPS] saved /reports/maps/positions-{i}.csv", flush=True)
        record.write(f"{i}\\n"); record.flush()
        i += 1
    time.sleep(0.01)
"""
WORKER = "import django, sys; django.setup(); from etl.runner.job import run_job; run_job(int(sys.argv[1]))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="resync-bench-loss-"))
    os.environ.setdefault("RESYNC_VAR_DIR", str(tmp))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from etl import services
    from etl.models import Job, LogLine
    from etl.reaper import reap_forever

    settings.ETL_COMMANDS = {"bench-maps": [sys.executable, "-c", CHILD]}
    os.environ["ETL_COMMANDS"] = json.dumps(settings.ETL_COMMANDS)
    services.system_save(code="maps", name="MAPS", command_name="bench-maps", acting_user=None)
    services.credential_save(
        system_id="maps", url="http://127.0.0.1:9", username="u", password="p4ssword", acting_user=None
    )
    threading.Thread(target=asyncio.run, args=(reap_forever(),), daemon=True).start()
    detected: list[float] = []
    lost: list[int] = []
    for _ in range(args.runs):
        job = services.job_execute(systems=["maps"], options={"data_inicial": "2025-01-15"}, acting_user=None)
        record = Path(settings.VAR_DIR) / f"printed-{job.pk}"
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(job.pk)], cwd=ROOT)
        while not record.exists() or record.stat().st_size < 20_000:  # a few thousand lines printed
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        worker.wait()
        while Job.objects.get(pk=job.pk).status == "running":
            time.sleep(0.02)
        detected.append(time.monotonic() - killed)
        time.sleep(0.2)  # the guard has ended the step; its record is complete
        printed = record.read_text().split()
        stored = set(LogLine.objects.filter(job_id=job.pk).values_list("message", flat=True))
        lost.append(sum(f"saved /reports/maps/positions-{i}.csv" not in stored for i in printed))
    print(f"database:                {os.environ['DATABASE_URL'].split(':')[0]}; runs {args.runs}")
    print(f"kill -9 -> worker lost:  median {statistics.median(detected):.2f} s, max {max(detected):.2f} s")
    print(f"lines lost per run:      {lost}")


if __name__ == "__main__":
    main()
