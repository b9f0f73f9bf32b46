"""Benchmark: a child printing 100,000 lines as fast as it can; every line persisted; lines/s.

Usage: python bench/etl_logs.py [--lines N] [--database-url URL]
Default: a fresh SQLite file (WAL) in a temporary folder, migrated by the script.
Baseline in the same run: the same child with its output read and discarded (no parsing, no database).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = (
    "import sys\n"
    "w = sys.stdout.write\n"
    "for i in range({n}):\n"
    "    w(f'[INFO] [MAPS] linha {{i}} processando registro do fundo AMP-RF-01 ativo LTN-2027\\n')\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="resync-bench-etl-"))
    os.environ.setdefault("RESYNC_VAR_DIR", str(tmp))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from etl import services
    from etl.models import Job, LogLine
    from etl.runner.job import run_job

    script = CHILD.format(n=args.lines)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    baseline = time.perf_counter() - started
    if proc.stdout.count(b"\n") != args.lines:
        raise SystemExit("the child did not print the expected lines")

    from django.conf import settings

    settings.ETL_COMMANDS = {"bench-maps": [sys.executable, "-c", script]}  # a System only names its command
    services.system_save(code="maps", name="MAPS", command_name="bench-maps", acting_user=None)
    services.credential_save(
        system_id="maps", url="http://127.0.0.1:9", username="u", password="p4ssword", acting_user=None
    )
    job = services.job_execute(systems=["maps"], options={"data_inicial": "2025-01-15"}, acting_user=None)
    started = time.perf_counter()
    status = run_job(job.pk)
    elapsed = time.perf_counter() - started
    stored = LogLine.objects.filter(job_id=job.pk).count()
    seqs_ok = LogLine.objects.filter(job_id=job.pk, seq__gt=args.lines).count() == 0 and stored == args.lines
    job = Job.objects.get(pk=job.pk)
    print(f"database:            {connection.vendor} ({os.environ['DATABASE_URL'].split(':')[0]})")
    print(f"job status:          {status}; lines stored {stored}/{args.lines}; seq 1..N contiguous: {seqs_ok}")
    print(f"child alone:         {baseline:.2f} s ({args.lines / baseline:,.0f} lines/s read and discarded)")
    print(f"runner + database:   {elapsed:.2f} s ({args.lines / elapsed:,.0f} lines/s persisted; target >= 20,000)")
    print(f"ratio vs child alone: {elapsed / baseline:.1f}x")
    if status != "success" or not seqs_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
