"""Benchmark: the etl API with 10,000 jobs on PostgreSQL.

1. Service time at concurrency 1, in process: GET /api/jobs?limit=50 and GET /api/stats through the
   full Django stack (middleware, token auth, ninja) against a bare django-ninja endpoint (no
   middleware, no auth) returning the same 50 rows, measured side by side in the same run.
2. People, not hammers: N simulated users (default 200), each pausing 1-3 s between requests over a
   mix of job list, job detail, stats and history, for D seconds (default 120), over loopback HTTP
   against the web tier as in production: `--web-processes` × `manage.py serve --no-embedded`
   behind nginx (one process is reached directly). Reports p50/p95/p99 and errors.

Usage: python bench/api_load.py [--pg-url postgres://postgres@127.0.0.1:5432] [--users 200] [--duration 120]
       [--iterations 300] [--web-processes 2] [--skip-load]
The script (re)creates the database ``bench_etl`` on that server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _support import percentile, recreate_database, web_stack  # noqa: E402  (bench/ is on the path when the script runs)

DB_NAME = "bench_etl"


def seed(jobs: int) -> str:
    """Create systems, an operator with an API token and ``jobs`` finished jobs; return the token."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from etl import services
    from etl.models import Job, JobStep, System
    from resync_site.roles import OPERATORS, roles_sync
    from resync_site.services import token_create

    roles_sync()
    user = get_user_model().objects.create_user(username="bench-operator", password="bench-operator-pw-1")
    user.groups.add(Group.objects.get(name=OPERATORS))
    for code in ("amplis", "maps", "fidc"):
        services.system_save(code=code, name=code.upper(), acting_user=None)
    systems = list(System.objects.order_by("code"))
    rng = random.Random(7)
    now = timezone.now()
    statuses = ["success"] * 8 + ["error", "cancelled"]
    batch: list[Job] = []
    for n in range(jobs):
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 45))
        duration = rng.uniform(20, 600)
        chosen = rng.sample(systems, rng.randint(1, 2))
        batch.append(
            Job(
                kind="pipeline" if len(chosen) > 1 else "single",
                systems=[s.code for s in chosen],
                options={"data_inicial": created.date().isoformat(), "data_final": created.date().isoformat()},
                status=statuses[n % len(statuses)],
                created_by=user,
                created_at=created,
                enqueued_at=created,
                started_at=created,
                finished_at=created + dt.timedelta(seconds=duration),
                duration_seconds=duration,
                exit_code=0,
                progress=100,
            )
        )
    created_jobs = Job.objects.bulk_create(batch, batch_size=2000)
    steps = []
    for job in created_jobs:
        for order, code in enumerate(job.systems, start=1):
            steps.append(
                JobStep(
                    job=job,
                    system=next(s for s in systems if s.code == code),
                    order=order,
                    status=job.status,
                    progress=100,
                    started_at=job.started_at,
                    finished_at=job.finished_at,
                    duration_seconds=(job.duration_seconds or 0) / len(job.systems),
                    exit_code=0,
                    line_count=500,
                )
            )
    JobStep.objects.bulk_create(steps, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, raw = token_create(user=user, name="bench", acting_user=None)
    return raw


def service_time(token: str, iterations: int) -> None:
    """Time ours through Django's ASGI handler (the production path) against a bare ninja endpoint."""
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient
    from ninja import NinjaAPI
    from ninja.testing import TestClient

    from etl.models import Job
    from etl.schemas import JobOut
    from etl.selectors import stats_forget
    from etl.shapes import job_out

    bare = NinjaAPI(urls_namespace="bare-bench")

    @bare.get("/jobs", response=list[JobOut])
    def bare_jobs(request: Any) -> Any:
        return [job_out(j) for j in Job.objects.select_related("created_by").order_by("-id")[:50]]

    bare_client = TestClient(bare)
    client = AsyncClient()
    auth = {"Authorization": f"Bearer {token}"}

    def ours_get(path: str) -> Any:
        return client.get(path, headers=auth)

    # Both run their sync code on a worker thread, as a sync view does under Daphne.
    bare_get = sync_to_async(bare_client.get)
    forget = sync_to_async(stats_forget)

    async def cold_stats() -> Any:
        await forget()
        return await ours_get("/api/stats")

    targets = {
        "bare ninja /jobs (50 rows)": lambda: bare_get("/jobs"),
        "GET /api/jobs?limit=50": lambda: ours_get("/api/jobs?limit=50"),
        "GET /api/stats (cached <= 10 s)": lambda: ours_get("/api/stats"),
        "GET /api/stats (cold: recomputed)": cold_stats,
    }
    results: dict[str, list[float]] = {name: [] for name in targets}

    async def measure() -> None:
        for call in targets.values():  # warm up connections, caches, imports
            for _ in range(10):
                await call()
        for _ in range(iterations):
            for name, call in targets.items():  # interleaved so drift hits every target alike
                started = time.perf_counter()
                response = await call()
                results[name].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{name} answered {response.status_code}: {response.content[:200]!r}")

    asyncio.run(measure())
    base = statistics.median(results["bare ninja /jobs (50 rows)"])
    print(f"\n== service time, concurrency 1, {iterations} requests each (in process, ASGI handler, PostgreSQL)")
    print(f"{'endpoint':36} {'median ms':>10} {'p99 ms':>8} {'vs bare':>8}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:36} {median:10.2f} {percentile(values, 99):8.2f} {median / base:7.2f}x")


async def simulated_users(base: str, token: str, users: int, duration: float, max_job: int) -> None:
    import httpx

    latencies: dict[str, list[float]] = {"jobs": [], "detail": [], "stats": [], "history": []}
    errors: list[str] = []
    deadline = time.monotonic() + duration
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:

        async def user(number: int) -> None:
            rng = random.Random(number)
            await asyncio.sleep(rng.uniform(0, 3))  # users arrive over the first seconds, not at once
            while time.monotonic() < deadline:
                kind = rng.choices(["jobs", "detail", "stats", "history"], weights=[40, 30, 15, 15])[0]
                path = {
                    "jobs": "/api/jobs?limit=50",
                    "detail": f"/api/jobs/{rng.randint(1, max_job)}",
                    "stats": "/api/stats",
                    "history": "/api/jobs/history?limit=20",
                }[kind]
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code != 200:
                        errors.append(f"{path}: HTTP {response.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                latencies[kind].append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(rng.uniform(1, 3))

        async with asyncio.TaskGroup() as tg:
            for number in range(users):
                tg.create_task(user(number))
    every = [v for values in latencies.values() for v in values]
    print(f"\n== {users} simulated users, 1-3 s think time, {duration:.0f} s, loopback HTTP")
    print(f"requests {len(every)} ({len(every) / duration:.1f}/s), errors {len(errors)}")
    print(f"{'mix':10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind, values in [*latencies.items(), ("all", every)]:
        if values:
            print(
                f"{kind:10} {len(values):7} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
                f"{percentile(values, 99):8.1f}"
            )
    if errors:
        print("first errors:", errors[:5])


def load_test(
    database_url: str, var_dir: str, token: str, users: int, duration: float, max_job: int, processes: int
) -> None:
    # Under Daphne every request runs on its own thread: persistent connections would pile up
    # (one per request thread) until PostgreSQL refuses more, so the server uses a bounded pool.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RESYNC_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL": "true",
        "DATABASE_POOL_MAX": os.environ.get("BENCH_POOL_MAX", "16"),
    }
    with web_stack(env=env, processes=processes) as (base, _pids):
        shape = f"{processes} web processes behind nginx" if processes > 1 else "1 web process"
        print(f"\n(web tier: {shape})")
        asyncio.run(simulated_users(base, token, users, duration, max_job))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--web-processes", type=int, default=2, help="serve processes (nginx in front when > 1)")
    parser.add_argument("--skip-load", action="store_true", help="only measure service time")
    parser.add_argument("--reuse", action="store_true", help="reuse the seeded database of a previous run")
    parser.add_argument("--skip-service-time", action="store_true")
    args = parser.parse_args()
    database_url = f"{args.pg_url}/{DB_NAME}" if args.reuse else recreate_database(args.pg_url, DB_NAME)
    var_dir = tempfile.mkdtemp(prefix="resync-bench-api-")
    os.environ.update(
        DATABASE_URL=database_url,
        RESYNC_VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="resync_site.settings",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.reuse:
        from django.contrib.auth import get_user_model

        from resync_site.services import token_create

        _, token = token_create(
            user=get_user_model().objects.get(username="bench-operator"), name="b", acting_user=None
        )
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        token = seed(args.jobs)
        print(f"seeded {args.jobs} jobs in {time.perf_counter() - started:.1f} s on {connection.vendor}")
    if not args.skip_service_time:
        service_time(token, args.iterations)
    connection.close()
    if not args.skip_load:
        load_test(database_url, var_dir, token, args.users, args.duration, args.jobs, args.web_processes)


if __name__ == "__main__":
    main()
