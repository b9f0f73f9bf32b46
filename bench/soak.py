"""Soak: a mixed load on the production profile for minutes, at 15 and at 200 concurrent users.

The whole stack runs as separate processes over loopback: web (`manage.py serve --no-worker
--no-embedded`, or with ``--web-processes N`` N of them behind nginx through ``_support.web_stack``),
one `manage.py worker`, the TWS simulator (`manage.py tws_simulator`) and etl's demo reports server,
on PostgreSQL (database ``bench_soak``, re-created) and Redis db 12 (flushed; no other db is touched).

Users (asyncio, 1-3 s think time, arriving over the first seconds), each with one role:
- dashboard: a staff user logged in through the admin login form (before the measured window), opens
  the admin index (the operations dashboard) and polls ``/api/dashboard`` with its session;
- api: job list / job detail / stats / history with an API token;
- tws: TWS job lists (all, by job stream, by status), workstations and plan counts with an API token;
- watcher: opens ``/ws/jobs/{id}`` of a running job and reads its lines for 10-30 s; a disconnect it did
  not ask for is an error;
- pipeline (one operator): ``POST /api/execute`` every 3-6 s; a 409 "system busy" is counted apart.

Prints per endpoint count, p50/p95/p99 and errors, the overall error rate, the RSS of every process at
the start, at minute 2 (20 % of the duration for runs shorter than 10 minutes) and at the end with the
growth between the last two, each process's CPU share (and this script's: a busy load generator adds
its own queueing to the latencies), and PASS/FAIL against the targets (error rate < 0.1 %,
p95 < 100 ms, memory growth < 10 %, every process under 500 MB).

Usage: python bench/soak.py [--users 15 --users 200] [--duration 600] [--web-processes 1]
                            [--pg-url postgres://postgres@127.0.0.1:5432] [--jobs 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, when run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support
from _support import ROOT, SIM_PASSWORD, SIM_USER, free_port, percentile, recreate_database, tws_simulator

DB_NAME = "bench_soak"
REDIS_URL = "redis://127.0.0.1:6379/12"
STAFF_USER, STAFF_PASSWORD = "soak-staff", "soak-staff-pw-1"  # a bench-only account in a throwaway database
TARGET_ERROR_RATE, TARGET_P95_MS, TARGET_GROWTH, TARGET_RSS_MB = 0.001, 100.0, 0.10, 500.0
ROLES = {"dashboard": 2, "api": 4, "tws": 3, "watcher": 1}  # share of the users, before the pipeline operator
# Shown, but not held to the p95 target: the staff logins happen before the measured window (the
# password hasher is slow on purpose, and the login page is the first request of cold processes).
P95_EXEMPT = {"POST /admin/login/": "n/a (PBKDF2, set-up)", "GET /admin/login/": "n/a (set-up)"}


def flush_redis_db() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # only our db: others share this server
    client.close()


def production_env(*, database_url: str, redis_url: str, var_dir: str) -> dict[str, str]:
    """Return the environment of every process: the production profile on loopback, without TLS."""
    from core.keyring import dump_keyring, generate_keyring

    return {
        "RESYNC_ENV": "production",
        "SECRET_KEY": os.urandom(40).hex(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATABASE_POOL": "true",
        "AUDIT_KEYRING": dump_keyring(generate_keyring()),
        "RESYNC_VAR_DIR": var_dir,
        "SECURE_SSL_REDIRECT": "false",  # loopback has no TLS proxy in front
        "LOG_LEVEL": "WARNING",
        "RESYNC_WORKER_METRICS_PORT": str(free_port()),
        "TWS_USERNAME": SIM_USER,
        "TWS_PASSWORD": SIM_PASSWORD,
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
    }


@dataclass
class Seeded:
    viewer_token: str
    operator_token: str
    max_job: int
    job_streams: list[str]
    tws_statuses: list[str]


def seed(jobs: int, tws_url: str, reports_url: str) -> Seeded:
    """Load the demo systems and credentials (at ``reports_url``), users, ``jobs`` finished jobs and the TWS plan."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone
    from pydantic import SecretStr

    from etl.demo.loader import demo_base_url, load, repoint
    from etl.models import Job, JobStep, System
    from resync_site.roles import OPERATORS, VIEWERS, roles_sync
    from resync_site.services import token_create
    from tws.hwa.settings import TWSSettings
    from tws.models import JobInPlan
    from tws.services import plan_sync

    roles_sync()
    print(f"demo data: {load()}; moved to {reports_url}: {repoint(demo_base_url(), reports_url)}")
    users = get_user_model().objects
    viewer = users.create_user(username="soak-viewer", password=os.urandom(16).hex())
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    operator = users.create_user(username="soak-operator", password=os.urandom(16).hex())
    operator.groups.add(Group.objects.get(name=OPERATORS))
    staff = users.create_user(username=STAFF_USER, password=STAFF_PASSWORD, is_staff=True)
    staff.groups.add(Group.objects.get(name=OPERATORS))
    systems = list(System.objects.order_by("code"))
    rng, now = random.Random(7), timezone.now()
    statuses = ["success"] * 8 + ["error", "cancelled"]
    batch = []
    for n in range(jobs):
        created = now - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 45))
        duration = rng.uniform(20, 600)
        chosen = rng.sample(systems, rng.randint(1, 2))
        day = created.date().isoformat()
        batch.append(
            Job(
                kind="pipeline" if len(chosen) > 1 else "single",
                systems=[s.code for s in chosen],
                options={"data_inicial": day, "data_final": day},
                status=statuses[n % len(statuses)],
                created_by=operator,
                created_at=created,
                enqueued_at=created,
                started_at=created,
                finished_at=created + dt.timedelta(seconds=duration),
                duration_seconds=duration,
                exit_code=0,
                progress=100,
            )
        )
    by_code = {s.code: s for s in systems}
    steps = [
        JobStep(
            job=job,
            system=by_code[code],
            order=order,
            status=job.status,
            progress=100,
            started_at=job.started_at,
            finished_at=job.finished_at,
            duration_seconds=(job.duration_seconds or 0) / len(job.systems),
            exit_code=0,
            line_count=500,
        )
        for job in Job.objects.bulk_create(batch, batch_size=2000)
        for order, code in enumerate(job.systems, start=1)
    ]
    JobStep.objects.bulk_create(steps, batch_size=5000)
    result = plan_sync(settings=TWSSettings(base_url=tws_url, username=SIM_USER, password=SecretStr(SIM_PASSWORD)))
    print(f"TWS plan synced: {result}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    streams = sorted({s for s in JobInPlan.objects.values_list("job_stream", flat=True).distinct()[:50] if s})
    return Seeded(
        viewer_token=token_create(user=viewer, name="soak", acting_user=None)[1],
        operator_token=token_create(user=operator, name="soak", acting_user=None)[1],
        max_job=Job.objects.order_by("-id").values_list("id", flat=True)[0],
        job_streams=streams or [""],
        tws_statuses=sorted(set(JobInPlan.objects.values_list("status", flat=True).distinct())) or [""],
    )


# --- the stack ---------------------------------------------------------------------------------


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_http(url: str, what: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; see {log_path}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f} s; see {log_path}")


@contextmanager
def web_processes(env: dict[str, str], logs: Path, processes: int) -> Iterator[tuple[str, dict[str, int]]]:
    """Start the web tier (`_support.web_stack`: N × serve, nginx in front of several); yield its URL and pids."""
    access_log = str(logs / "access.log")  # the server side's timing of every request (nginx, > 1 process)
    with _support.web_stack(env=env, processes=processes, log_dir=str(logs), access_log=access_log) as (base, pids):
        yield base, {f"web{number}": pid for number, pid in enumerate(pids, start=1)}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def stack(env: dict[str, str], logs: Path, reports_port: int, web: int) -> Iterator[tuple[str, dict[str, int]]]:
    """Run reports server, worker and web tier; yield the web base URL and {label: pid} of every process."""
    import psutil

    sim = [p for p in psutil.Process().children() if "tws_simulator" in " ".join(p.cmdline())]
    pids = {"simulator": sim[0].pid} if sim else {}
    with ExitStack() as stop:
        reports_log = logs / "reports.log"
        reports = _spawn([str(Path(__file__).resolve()), "--reports-server", str(reports_port)], env, reports_log)
        stop.callback(_stop, reports)
        _wait_http(f"http://127.0.0.1:{reports_port}/", "reports server", reports, reports_log)
        worker_log = logs / "worker.log"
        worker = _spawn(["manage.py", "worker"], env, worker_log)
        stop.callback(_stop, worker)
        metrics = f"http://127.0.0.1:{env['RESYNC_WORKER_METRICS_PORT']}/metrics"
        _wait_http(metrics, "worker", worker, worker_log)
        base, web_pids = stop.enter_context(web_processes(env, logs, web))
        pids.update(reports=reports.pid, worker=worker.pid, **web_pids)
        yield base, pids


def reports_server(port: int) -> None:
    """Serve etl's demo reports standalone (what `serve` embeds) until SIGTERM."""
    import django

    django.setup()
    from etl.demo.server import start

    async def serve() -> None:
        runner, url = await start("127.0.0.1", port)
        print(f"demo reports server at {url}", flush=True)
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        await stopped.wait()
        await runner.cleanup()

    asyncio.run(serve())


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    busy: int = 0
    ws_sessions: int = 0
    ws_lines: int = 0
    loop_lag: list[float] = field(default_factory=list)  # ms this script's event loop was late waking up
    window: tuple[float, float] = (0.0, 0.0)  # the measured window, epoch seconds

    def error(self, endpoint: str, what: str) -> None:
        self.errors[endpoint] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{endpoint}: {what}")


def _postgres_cpu() -> float:
    """Return the CPU seconds of the PostgreSQL processes alive now (backends that ended are not counted)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] == "postgres" and proc.info["cpu_times"] is not None:
            total += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return total


def cpu_reference() -> float:
    """Return the milliseconds a fixed pure-Python loop takes here: compare machines before figures."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(2_000_000):
            total += number
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


class Memory:
    """Sample the RSS of every process every few seconds."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self.procs = {label: psutil.Process(pid) for label, pid in pids.items()}
        self.samples: dict[str, list[tuple[float, float]]] = {label: [] for label in pids}
        self.cpu: dict[str, list[float]] = {label: [] for label in pids}  # CPU seconds at each sample
        self.client = psutil.Process()  # this script: if it is busy, latencies include its own queueing
        self.client_cpu: list[float] = []
        self.machine: list[Any] = []  # psutil.cpu_times() at each sample: where the machine's CPU went
        self.postgres: list[float] = []  # CPU seconds of the PostgreSQL server's processes alive at each sample
        self.started = time.monotonic()

    def sample(self) -> None:
        import psutil

        now = time.monotonic() - self.started
        times = self.client.cpu_times()
        self.client_cpu.append(times.user + times.system)
        self.machine.append(psutil.cpu_times())
        self.postgres.append(_postgres_cpu())
        for label, proc in self.procs.items():
            try:
                self.samples[label].append((now, proc.memory_info().rss / 2**20))
                times = proc.cpu_times()
                self.cpu[label].append(times.user + times.system)
            except psutil.Error:
                self.samples[label].append((now, float("nan")))
                self.cpu[label].append(float("nan"))

    def restart(self) -> None:
        """Start the clock and the samples over (the measured window begins now)."""
        self.started = time.monotonic()
        for samples in self.samples.values():
            samples.clear()
        for cpu in self.cpu.values():
            cpu.clear()
        self.client_cpu.clear()
        self.machine.clear()
        self.postgres.clear()
        self.sample()

    async def run(self, until: float, every: float = 5.0) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(every, max(0.0, until - time.monotonic())))
            self.sample()

    def at(self, label: str, seconds: float) -> float:
        return min(self.samples[label], key=lambda s: abs(s[0] - seconds))[1]


@dataclass(frozen=True)
class Reply:
    """What a user keeps of an answer (read whole inside the request's timing)."""

    status_code: int
    text: str
    set_cookies: list[str]

    def json(self) -> Any:
        return json.loads(self.text)


class Load:
    def __init__(self, base: str, seeded: Seeded, tally: Tally) -> None:
        self.base, self.seeded, self.tally = base, seeded, tally
        self.deadline = 0.0  # set when the measured window starts
        self.running: list[int] = []

    async def timed(self, client: Any, endpoint: str, method: str, path: str, **kwargs: Any) -> Reply | None:
        import aiohttp

        # nginx logs the header (see _support.web_stack): the server side's figures per endpoint.
        kwargs["headers"] = {**kwargs.get("headers", {}), _support.LABEL_HEADER: endpoint}
        started = time.perf_counter()
        try:
            async with client.request(method, self.base + path, allow_redirects=False, **kwargs) as response:
                reply = Reply(response.status, await response.text(), response.headers.getall("Set-Cookie", []))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.tally.latencies[endpoint].append((time.perf_counter() - started) * 1000)
            self.tally.error(endpoint, f"{type(exc).__name__} {exc}"[:120])
            return None
        self.tally.latencies[endpoint].append((time.perf_counter() - started) * 1000)
        if reply.status_code == 409 and endpoint.startswith("POST /api/execute"):
            self.tally.busy += 1
        elif reply.status_code >= 400 or (reply.status_code >= 300 and method != "POST"):
            self.tally.error(endpoint, f"HTTP {reply.status_code}")
            return None
        return reply

    async def lag_probe(self, every: float = 0.05) -> None:
        """Record how late this loop wakes up: what every client latency includes besides the server."""
        while time.monotonic() < self.deadline:
            started = time.perf_counter()
            await asyncio.sleep(every)
            self.tally.loop_lag.append(max(0.0, (time.perf_counter() - started - every) * 1000))

    async def think(self, rng: random.Random) -> bool:
        await asyncio.sleep(rng.uniform(1, 3))
        return time.monotonic() < self.deadline

    async def api_user(self, client: Any, rng: random.Random) -> None:
        auth = {"Authorization": f"Bearer {self.seeded.viewer_token}"}
        while await self.think(rng):
            kind = rng.choices(["jobs", "detail", "stats", "history"], weights=[40, 30, 15, 15])[0]
            path = {
                "jobs": "/api/jobs?limit=50",
                "detail": f"/api/jobs/{rng.randint(1, self.seeded.max_job)}",
                "stats": "/api/stats",
                "history": "/api/jobs/history?limit=20",
            }[kind]
            await self.timed(client, f"GET /api/{kind}", "GET", path, headers=auth)

    async def tws_user(self, client: Any, rng: random.Random) -> None:
        auth = {"Authorization": f"Bearer {self.seeded.viewer_token}"}
        while await self.think(rng):
            kind = rng.choices(["jobs", "stream", "status", "workstations", "plan"], weights=[35, 20, 15, 20, 10])[0]
            path = {
                "jobs": "/api/tws/jobs?limit=100&sort=-start_time",
                "stream": f"/api/tws/jobs?job_stream={rng.choice(self.seeded.job_streams)}&limit=100",
                "status": f"/api/tws/jobs?status={rng.choice(self.seeded.tws_statuses)}&limit=100",
                "workstations": "/api/tws/workstations",
                "plan": "/api/tws/plan",
            }[kind]
            await self.timed(client, f"GET /api/tws/{kind}", "GET", path, headers=auth)

    async def login(self, client: Any) -> dict[str, str] | None:
        """Log the staff user in through the admin login form; return the session's Cookie header."""
        page = await self.timed(client, "GET /admin/login/", "GET", "/admin/login/")
        if page is None:
            return None
        cookies = _cookies(page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        form = {"username": STAFF_USER, "password": STAFF_PASSWORD, "next": "/admin/"}
        form["csrfmiddlewaretoken"] = token.group(1) if token else ""
        # No Origin header: a proxy that forwards `Host $host` drops the port, so the browser's Origin
        # would not match; over plain HTTP Django then checks the CSRF token alone, as it does here.
        cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        login = await self.timed(client, "POST /admin/login/", "POST", "/admin/login/", data=form, headers=cookie)
        if login is None:
            return None
        cookies.update(_cookies(login))
        if login.status_code != 302 or "sessionid" not in cookies:
            self.tally.error("POST /admin/login/", f"no session (HTTP {login.status_code})")
            return None
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    async def dashboard_user(self, client: Any, rng: random.Random, session: dict[str, str] | None) -> None:
        if session is None:
            return  # the login failed and was counted
        while await self.think(rng):
            if rng.random() < 0.25:
                await self.timed(client, "GET /admin/ (dashboard)", "GET", "/admin/", headers=session)
            else:
                await self.timed(client, "GET /api/dashboard", "GET", "/api/dashboard", headers=session)

    async def pipeline_operator(self, client: Any, rng: random.Random) -> None:
        auth = {"Authorization": f"Bearer {self.seeded.operator_token}"}
        today = dt.datetime.now(dt.UTC).date()
        while time.monotonic() < self.deadline:
            systems = rng.sample(["amplis", "maps", "fidc"], rng.randint(1, 2))
            day = (today - dt.timedelta(days=rng.randint(1, 30))).isoformat()
            body = {"sistemas": systems, "data_inicial": day}
            response = await self.timed(client, "POST /api/execute", "POST", "/api/execute", json=body, headers=auth)
            if response is not None and response.status_code == 202:
                self.running = [response.json()["id"], *self.running][:5]
            await asyncio.sleep(rng.uniform(3, 6))

    async def watcher(self, session: Any, rng: random.Random) -> None:
        import aiohttp

        ws_base = self.base.replace("http", "ws", 1)
        while await self.think(rng):
            job_id = rng.choice(self.running) if self.running else self.seeded.max_job
            url = f"{ws_base}/ws/jobs/{job_id}?batch=1"  # the token goes in a header: URLs end up in messages
            watch_until = min(self.deadline, time.monotonic() + rng.uniform(10, 30))
            started = time.perf_counter()
            self.tally.ws_sessions += 1
            try:
                headers = {"Origin": self.base, "Authorization": f"Bearer {self.seeded.viewer_token}"}
                async with session.ws_connect(url, headers=headers, heartbeat=None) as ws:
                    self.tally.latencies["WS /ws/jobs/{id} connect"].append((time.perf_counter() - started) * 1000)
                    while time.monotonic() < watch_until:
                        try:
                            message = await ws.receive(timeout=max(0.1, watch_until - time.monotonic()))
                        except TimeoutError:
                            break
                        if message.type != aiohttp.WSMsgType.TEXT:
                            self.tally.error("WS /ws/jobs/{id}", f"server closed the socket ({message.type.name})")
                            break
                        frame = json.loads(message.data)
                        if frame.get("type") == "log":
                            self.tally.ws_lines += 1
                        elif frame.get("type") == "log_batch":
                            self.tally.ws_lines += len(frame["payload"]["lines"])
                        elif frame.get("type") == "error":
                            self.tally.error("WS /ws/jobs/{id}", f"error frame {frame.get('payload')}")
                        elif frame.get("type") == "job_complete":
                            break
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.tally.latencies["WS /ws/jobs/{id} connect"].append((time.perf_counter() - started) * 1000)
                self.tally.error("WS /ws/jobs/{id} connect", f"{type(exc).__name__} {exc}"[:120])


def _cookies(response: Reply) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.set_cookies:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


async def run_users(base: str, seeded: Seeded, users: int, duration: float, memory: Memory) -> Tally:
    import aiohttp

    tally = Tally()
    load = Load(base, seeded, tally)
    weights = list(ROLES.values())
    roles = [rng_role for rng_role, _ in zip(_cycle(list(ROLES), weights), range(users - 1), strict=False)]
    print(f"users: {dict(Counter(roles))} + 1 pipeline operator")
    # aiohttp for both: httpx's client cost this script several times the CPU per request, and a busy
    # load generator adds its own queueing to every latency it measures. No cookie jar: each user
    # sends its own credentials (token or session cookie) and nothing else.
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=users),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=30),
        ) as client,
        # sock_read bounds the websocket handshake too: a socket the server never answers is an error, not a hang.
        aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=30),
        ) as session,
    ):
        # Staff sessions exist before the window (PBKDF2 makes a login cost ~0.3 s of the web's CPU
        # on purpose: 40 at once would measure a login storm, not the steady state).
        gate = asyncio.Semaphore(2)

        async def login() -> dict[str, str] | None:
            async with gate:
                return await load.login(client)

        sessions = iter(await asyncio.gather(*(login() for role in roles if role == "dashboard")))
        load.deadline = time.monotonic() + duration
        opened = time.time()
        tally.window = (opened, opened + duration)
        memory.restart()

        async def user(number: int, role: str, cookie: dict[str, str] | None) -> None:
            rng = random.Random(number)
            await asyncio.sleep(rng.uniform(0, 5))  # arrivals spread over the first seconds
            if role == "watcher":
                await load.watcher(session, rng)
            elif role == "dashboard":
                await load.dashboard_user(client, rng, cookie)
            else:
                await getattr(load, f"{role}_user")(client, rng)

        async with asyncio.TaskGroup() as tg:
            tg.create_task(memory.run(load.deadline))
            tg.create_task(load.lag_probe())
            tg.create_task(load.pipeline_operator(client, random.Random(-1)))
            for number, role in enumerate(roles):
                tg.create_task(user(number, role, next(sessions) if role == "dashboard" else None))
    return tally


def _cycle(names: list[str], weights: list[int]) -> Iterator[str]:
    """Yield roles round-robin in proportion to their weights (2:4:3:1 -> d a a t t ... w)."""
    pattern = [name for name, weight in zip(names, weights, strict=True) for _ in range(weight)]
    while True:
        yield from pattern


def server_side(records: list[_support.AccessRecord], tally: Tally) -> None:
    """Print nginx's own timing per endpoint in the window: the server's share of the client's latency."""
    start, end = tally.window
    by_label: dict[str, list[_support.AccessRecord]] = defaultdict(list)
    for record in records:
        if record.label and start <= record.ended <= end + 30:  # requests begun in the window
            by_label[record.label].append(record)
    if not by_label:
        print("(no server-side timing: nginx runs only in front of more than one web process)")
        return
    count = sum(map(len, by_label.values()))
    print(f"\nserver side ({count} requests; nginx's $request_time; upstream: the web process's share)")
    print(f"{'endpoint':32} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'upstr p95':>10}")
    for label in sorted(by_label):
        total = [r.total_ms for r in by_label[label]]
        upstream = [r.upstream_ms for r in by_label[label] if r.upstream_ms is not None] or [float("nan")]
        print(
            f"{label:32} {len(total):7} {percentile(total, 50):8.1f} {percentile(total, 95):8.1f} "
            f"{percentile(total, 99):8.1f} {percentile(upstream, 95):10.1f}"
        )
    lag = tally.loop_lag or [float("nan")]
    print(
        f"load generator's event loop, late by: p50 {percentile(lag, 50):.1f} ms, p95 {percentile(lag, 95):.1f} ms, "
        f"p99 {percentile(lag, 99):.1f} ms, max {max(lag):.1f} ms (every client figure above includes it)"
    )


def report(users: int, duration: float, tally: Tally, memory: Memory, records: list[_support.AccessRecord]) -> bool:
    requests = sum(len(v) for v in tally.latencies.values())
    errors = sum(tally.errors.values())
    rate = errors / max(1, requests)
    print(f"\n== soak: {users} users, {duration:.0f} s, production profile over loopback")
    print(
        f"requests+sockets {requests} ({requests / duration:.1f}/s), errors {errors} ({rate:.3%}), "
        f"409 busy (expected) {tally.busy}, log sockets {tally.ws_sessions}, log lines received {tally.ws_lines}"
    )
    print(
        f"{'endpoint':32} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}  p95<{TARGET_P95_MS:.0f}"
    )
    p95_ok = True
    for endpoint in sorted(set(tally.latencies) | set(tally.errors)):
        values = tally.latencies.get(endpoint) or [float("nan")]
        p95 = percentile(values, 95)
        ok = p95 < TARGET_P95_MS or endpoint in P95_EXEMPT
        p95_ok &= ok
        verdict = P95_EXEMPT.get(endpoint) or ("PASS" if ok else "FAIL")
        print(
            f"{endpoint:32} {len(tally.latencies.get(endpoint, [])):7} {percentile(values, 50):8.1f} {p95:8.1f} "
            f"{percentile(values, 99):8.1f} {tally.errors[endpoint]:7}  {verdict}"
        )
    if tally.samples:
        print("first errors:", tally.samples)
    server_side(records, tally)
    mark = min(120.0, 0.2 * duration)
    print(
        f"\n{'process':10} {'start MB':>9} {f'@{mark:.0f}s MB':>9} {'end MB':>9} {'max MB':>9} {'growth':>8} "
        f"{'CPU %':>6}"
    )
    growth_ok = rss_ok = True
    for label, samples in memory.samples.items():
        start, middle, end = samples[0][1], memory.at(label, mark), samples[-1][1]
        peak = max(s[1] for s in samples)
        growth = (end - middle) / middle
        growth_ok &= growth < TARGET_GROWTH
        rss_ok &= peak < TARGET_RSS_MB
        busy = (memory.cpu[label][-1] - memory.cpu[label][0]) / max(1e-9, samples[-1][0] - samples[0][0])
        print(f"{label:10} {start:9.1f} {middle:9.1f} {end:9.1f} {peak:9.1f} {growth:8.1%} {busy:6.0%}")
    window = next(iter(memory.samples.values()))
    elapsed = max(1e-9, window[-1][0] - window[0][0])
    client = (memory.client_cpu[-1] - memory.client_cpu[0]) / elapsed
    print(f"load generator (this script): CPU {client:.0%} of one core; machine load average {os.getloadavg()[0]:.1f}")
    first, last = memory.machine[0], memory.machine[-1]
    spent = {name: getattr(last, name) - getattr(first, name) for name in first._fields}
    whole = sum(spent.values()) or 1.0
    cores = whole / elapsed
    shares = ", ".join(
        f"{name} {spent.get(name, 0.0) / whole:.0%}" for name in ("user", "nice", "system", "softirq", "steal", "idle")
    )
    postgres = (memory.postgres[-1] - memory.postgres[0]) / elapsed
    print(
        f"machine ({cores:.0f} cores): {shares} (nice: the pipeline's steps; steal: taken by the hypervisor); "
        f"PostgreSQL {postgres:.0%} of one core"
    )
    verdicts = {
        f"error rate < {TARGET_ERROR_RATE:.1%}": rate < TARGET_ERROR_RATE,
        f"p95 < {TARGET_P95_MS:.0f} ms on every endpoint": p95_ok,
        f"memory growth < {TARGET_GROWTH:.0%} (@{mark:.0f}s -> end)": growth_ok,
        f"every process < {TARGET_RSS_MB:.0f} MB": rss_ok,
    }
    for name, ok in verdicts.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(verdicts.values())


def soak(users: int, duration: float, pg_url: str, jobs: int, env: dict[str, str], web: int) -> bool:
    """Run one soak round on a fresh database and a fresh stack (same settings as the other rounds)."""
    from django.db import connections

    connections.close_all()
    recreate_database(pg_url, DB_NAME)
    flush_redis_db()
    var_dir = Path(env["RESYNC_VAR_DIR"])
    with tws_simulator(jobs=2000) as tws_url:
        env = {**env, "TWS_BASE_URL": tws_url}
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        # ETL_DEMO_SERVER_PORT is a Django setting, not an environment variable: the demo data is
        # moved to a free port instead, as `serve` does when 31117 is taken.
        reports_port = free_port()
        seeded = seed(jobs, tws_url, f"http://127.0.0.1:{reports_port}")
        connections.close_all()
        print(f"seeded {jobs} jobs in {time.perf_counter() - started:.1f} s; logs in {var_dir}")
        with stack(env, var_dir, reports_port, web) as (base, pids):
            memory = Memory(pids)
            memory.sample()
            tally = asyncio.run(run_users(base, seeded, users, duration, memory))
            memory.sample()
    access_log = var_dir / "access.log"  # complete once nginx has stopped (written only with nginx in front)
    records: list[_support.AccessRecord] = []
    if access_log.exists():
        records = _support.read_access_log(access_log)
        # Kept for a closer look; the next round writes its own.
        access_log.rename(var_dir / f"access-{users}-users.log")
    return report(users, duration, tally, memory, records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, action="append", help="concurrent users (repeat; default 15 then 200)")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load per round (default 600)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--jobs", type=int, default=5000, help="finished jobs seeded (default 5000)")
    parser.add_argument("--web-processes", type=int, default=1, help="web processes (> 1: behind nginx)")
    parser.add_argument("--reports-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reports_server:
        reports_server(args.reports_server)
        return
    if any(u < 2 for u in args.users or []):
        parser.error("--users must be at least 2 (one of them runs the pipeline)")
    # SIGTERM (`timeout`, a CI job cancelled) unwinds like Ctrl-C: every `with` stops its processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    var_dir = tempfile.mkdtemp(prefix="resync-soak-")
    env = {
        **os.environ,
        **production_env(database_url=f"{args.pg_url}/{DB_NAME}", redis_url=REDIS_URL, var_dir=var_dir),
    }
    os.environ.update(env)  # this process seeds through the same settings as the stack
    import django

    django.setup()
    rounds = args.users or [15, 200]
    print(f"CPU reference: a 2,000,000-step Python loop takes {cpu_reference():.0f} ms here (compare machines with it)")
    results = {users: soak(users, args.duration, args.pg_url, args.jobs, env, args.web_processes) for users in rounds}
    print("\n" + "  ".join(f"{u} users: {'PASS' if ok else 'FAIL'}" for u, ok in results.items()))


if __name__ == "__main__":
    main()
