"""Benchmark: sync a 150,000-job plan from the simulator (seconds, peak memory), then re-sync it unchanged.

Run: RESYNC_TEST_DB_NAME=... python bench/tws_sync.py [--jobs 150000]
The simulator runs as a separate process (`manage.py tws_simulator`, clock frozen) so
its JSON rendering does not share this process's CPU or memory figures. The database
is a fresh SQLite file under a temporary VAR_DIR (or DATABASE_URL when set).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _support import tws_simulator  # noqa: E402  (bench/ on the path, for scripts run directly)


def _rss_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRss:
    """Sample this process's RSS every 50 ms (ru_maxrss only grows, so we sample per phase)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * page / 2**20
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=150_000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="tws-bench-")
    os.environ.setdefault("RESYNC_VAR_DIR", tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    os.environ["APP_TWS_UNIFIED_V2_ENABLED"] = "true"
    import django
    from django.conf import settings as dj

    django.setup()
    del dj
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from tws.hwa.settings import TWSSettings
    from tws.models import JobInPlan
    from tws.services import plan_sync

    with tws_simulator(jobs=args.jobs) as base_url:
        settings = TWSSettings(base_url=base_url, username="bench", password="bench-pass", timeout_seconds=120)
        print(f"database: {connection.vendor}; plan: {args.jobs} jobs")
        with PeakRss() as rss:
            t0 = time.perf_counter()
            first = plan_sync(settings=settings)
            first_s = time.perf_counter() - t0
        if not first.ok:
            raise SystemExit(f"sync failed: {first.detail}")
        print(
            f"first sync : {first_s:6.2f} s  jobs={first.jobs_seen} changed={first.jobs_changed} "
            f"peak RSS={rss.peak:.0f} MB"
        )
        with PeakRss() as rss2:
            t0 = time.perf_counter()
            again = plan_sync(settings=settings)
            again_s = time.perf_counter() - t0
        print(
            f"re-sync    : {again_s:6.2f} s  jobs={again.jobs_seen} changed={again.jobs_changed} "
            f"peak RSS={rss2.peak:.0f} MB"
        )
        print(f"rows in DB : {JobInPlan.objects.count()}")
        from tws.services.bridge import run_async
        from tws.services.plan_sync import plan_fetch, plan_store

        async def fetch() -> object:
            return await plan_fetch(settings=settings)

        t0, c0 = time.perf_counter(), time.process_time()
        fetched = run_async(fetch)
        t1, c1 = time.perf_counter(), time.process_time()
        plan_store(fetched=fetched)  # type: ignore[arg-type]
        t2, c2 = time.perf_counter(), time.process_time()
        print(
            f"phases     : fetch {t1 - t0:.2f} s (our CPU {c1 - c0:.2f} s), compare+store {t2 - t1:.2f} s "
            f"(our CPU {c2 - c1:.2f} s) on the unchanged plan"
        )
        print(f"load avg   : {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"targets    : first < 20 s and < 400 MB; unchanged re-sync < 5 s; ru_maxrss={_rss_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
