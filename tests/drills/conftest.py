"""The whole stack as in production, for the fault drills: its own PostgreSQL, Redis, simulators, web, worker.

Everything runs as separate processes on loopback ports chosen at start, under one temporary directory.
Teardown stops every process it started and then any process still carrying the stack's RESYNC_VAR_DIR in
its environment (ETL steps run in their own sessions), so nothing survives a run, even a failed one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() == "true"
SIM_USER, SIM_PASSWORD = "drill", "drill-sim-pass"
ADMIN = "drill-admin"
T = TypeVar("T")
FIGURES: dict[str, float] = {}  # durations observed by the drills, printed after the run (docs/drills.md)

# Short windows so the drills run in a few minutes (each one is an operator-visible setting).
KNOBS = {
    "ETL_STALE_SECONDS": "5",
    "ETL_REAPER_INTERVAL_SECONDS": "2",
    "ETL_PENDING_REQUEUE_SECONDS": "30",
    "TWS_MONITOR_INTERVAL_SECONDS": "5",
    "TWS_RETRY_ATTEMPTS": "2",
    "TWS_RETRY_BACKOFF_BASE_SECONDS": "0.05",
    "TWS_CONNECT_TIMEOUT_SECONDS": "1",
    "TWS_TIMEOUT_SECONDS": "3",
    "TWS_BREAKER_CONSECUTIVE_FAILURES": "4",
    "TWS_BREAKER_RESET_SECONDS": "3",
    "TWS_CACHE_TTL_STATUS": "0",
    "CACHEMIG_GUARD_INTERVAL_SECONDS": "2",
    "CACHEMIG_BREAKER_RESET_SECONDS": "2",
    "DATABASE_POOL_TIMEOUT": "3",
    "DATABASE_CONNECT_TIMEOUT": "2",
    "HUEY_WORKERS": "2",
    "RESYNC_SHUTDOWN_GRACE_SECONDS": "1",
}


def wait_for(what: str, check: Callable[[], T | None], *, timeout: float = 60, every: float = 0.2) -> T:
    """Return the first truthy result of ``check``; fail naming ``what`` if none comes within ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last_error, result = exc, None
        if result:
            return result
        time.sleep(every)
    cause = f" (last error: {last_error!r})" if last_error else ""
    pytest.fail(f"{what} did not happen within {timeout:g} s{cause}")


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def metric_value(text: str, name: str, **labels: str) -> float:
    """Return the sum of the samples named ``name`` whose labels include ``labels`` (0 when absent)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def _prerequisites() -> tuple[Path, str]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    redis_server = shutil.which("redis-server")
    problems = []
    if not found:
        problems.append("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)")
    if not redis_server:
        problems.append("redis-server (apt-get install redis-server)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        problems.append("runuser (util-linux), to run PostgreSQL as the postgres user")
    if problems:
        message = "fault drills need " + " and ".join(problems)
        if CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return Path(found[-1]).parent, str(redis_server)


class Stack:
    """One production-shaped Resync with its own services; every part can be stopped and started again."""

    def __init__(self) -> None:
        self.pg_bin, self.redis_server = _prerequisites()
        self.dir = Path(tempfile.mkdtemp(prefix="resync-drills-"))
        self.dir.chmod(0o755)
        self.var_dir = self.dir / "var"
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports = {name: free_port() for name in ("pg", "redis", "sim", "demo", "web", "worker_metrics")}
        self.pg_data = self.dir / "pg" / "data"
        self.pg_socket = self.dir / "pg" / "run"
        self.base_url = f"http://127.0.0.1:{self.ports['web']}"
        self.observability_token = secrets.token_urlsafe(24)
        self.api_token = ""
        self.started_at = time.monotonic()
        self.figures = FIGURES

    # --- environment ---------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        from core.keyring import dump_keyring, generate_keyring

        if not hasattr(self, "_keyring"):
            self._keyring = dump_keyring(generate_keyring())
            self._secret_key = secrets.token_urlsafe(50)
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST", "COV_CORE", "DATABASE_", "REDIS_", "RESYNC_", "TWS_", "ETL_", "APP_"))
            and not k.startswith(("CACHEMIG_", "AUDIT_", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "HUEY_"))
        }
        return {
            **keep,
            "PYTHONUNBUFFERED": "1",
            "RESYNC_ENV": "production",
            "SECRET_KEY": self._secret_key,
            "AUDIT_KEYRING": self._keyring,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.ports['pg']}/resync",
            "REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RESYNC_VAR_DIR": str(self.var_dir),
            "RESYNC_OBSERVABILITY_TOKEN": self.observability_token,
            "RESYNC_WORKER_METRICS_PORT": str(self.ports["worker_metrics"]),
            "TWS_BASE_URL": f"http://127.0.0.1:{self.ports['sim']}",
            "TWS_USERNAME": SIM_USER,
            "TWS_PASSWORD": SIM_PASSWORD,
            "ETL_DEMO_SERVER_PORT": str(self.ports["demo"]),
            "RESYNC_ADMIN_PASSWORD": secrets.token_urlsafe(16),
            **KNOBS,
        }

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run a management command against the stack and return its result."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs[name] = proc
        return proc

    def log_text(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- PostgreSQL ----------------------------------------------------------------------------------
    def _as_postgres(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=self.dir
        )

    def pg_init(self) -> None:
        (self.dir / "pg").mkdir()
        self.pg_socket.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir / "pg", "postgres", "postgres")
            shutil.chown(self.pg_socket, "postgres", "postgres")
        done = self._as_postgres(
            str(self.pg_bin / "initdb"), "-D", str(self.pg_data), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        if done.returncode != 0:
            pytest.fail(f"initdb failed: {done.stdout}{done.stderr}")

    def pg_ctl(self, action: str, *extra: str) -> subprocess.CompletedProcess[str]:
        options = (
            f"-p {self.ports['pg']} -k {self.pg_socket} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        return self._as_postgres(
            str(self.pg_bin / "pg_ctl"),
            action,
            "-D",
            str(self.pg_data),
            "-l",
            str(self.dir / "pg" / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            *extra,
        )

    def pg_start(self) -> None:
        done = self.pg_ctl("start")
        if done.returncode != 0:
            pytest.fail(f"PostgreSQL did not start: {done.stdout}{done.stderr}")

    # --- Redis ---------------------------------------------------------------------------------------
    def redis_start(self) -> None:
        self._spawn(
            "redis",
            [
                self.redis_server,
                "--port",
                str(self.ports["redis"]),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
        )
        wait_for("Redis accepting connections", lambda: self._redis_ping(), timeout=20)

    def _redis_ping(self) -> bool:
        import redis

        client = redis.Redis(port=self.ports["redis"], socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    # --- the application's processes ------------------------------------------------------------------
    def sim_start(self) -> None:
        self._spawn(
            "sim",
            [
                sys.executable,
                "manage.py",
                "tws_simulator",
                "--port",
                str(self.ports["sim"]),
                "--jobs",
                "200",
                "--username",
                SIM_USER,
                "--password",
                SIM_PASSWORD,
            ],
        )
        wait_for("the TWS simulator listening", lambda: self._listening("sim"), timeout=60)

    def demo_start(self, *, delay_ms: int = 0) -> None:
        self._spawn(
            "demo",
            [
                sys.executable,
                "manage.py",
                "etl_demo_server",
                "--port",
                str(self.ports["demo"]),
                "--delay-ms",
                str(delay_ms),
            ],
        )
        wait_for("the ETL demo reports server listening", lambda: self._listening("demo"), timeout=60)

    def web_start(self) -> None:
        self._spawn(
            "web",
            [sys.executable, "manage.py", "serve", "--port", str(self.ports["web"]), "--no-worker", "--no-embedded"],
        )
        wait_for("the web process answering /health", lambda: self.get("/health").status_code == 200, timeout=90)

    def worker_start(self) -> subprocess.Popen[bytes]:
        before = self.log_text("worker").count('"worker: ready"')
        proc = self._spawn("worker", [sys.executable, "manage.py", "worker"])
        wait_for(
            "the worker logging 'worker: ready'",
            lambda: proc.poll() is None and self.log_text("worker").count('"worker: ready"') > before,
            timeout=90,
        )
        wait_for("the worker serving its /metrics", lambda: self.worker_metrics(), timeout=30)
        return proc

    def _listening(self, name: str) -> bool:
        proc = self.procs[name]
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}: {self.log_text(name)[-2000:]}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.ports[name])) == 0

    def stop(self, name: str, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop process ``name`` with ``sig`` (SIGKILL if it does not exit in time)."""
        proc = self.procs[name]
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    # --- HTTP ----------------------------------------------------------------------------------------
    def client(self, timeout: float = 20) -> httpx.Client:
        # The web sits behind a TLS proxy in production (SECURE_SSL_REDIRECT): say we came through one.
        headers = {"X-Forwarded-Proto": "https"}
        if self.api_token:
            headers["Authorization"] = f"Bearer {self.api_token}"
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        with self.client() as client:
            return client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        with self.client() as client:
            return client.post(path, **kwargs)

    def metrics(self) -> str:
        response = self.get("/metrics", headers={"Authorization": f"Bearer {self.observability_token}"})
        response.raise_for_status()
        return response.text

    def worker_metrics(self) -> str:
        response = httpx.get(f"http://127.0.0.1:{self.ports['worker_metrics']}/metrics", timeout=10)
        response.raise_for_status()
        return response.text

    def health_detailed(self) -> httpx.Response:
        return self.get("/health/detailed", headers={"Authorization": f"Bearer {self.observability_token}"})

    # --- state checks ---------------------------------------------------------------------------------
    def audit_count(self, *, actor: str) -> int:
        response = self.get("/api/audit", params={"actor": actor, "limit": 1})
        response.raise_for_status()
        return int(response.json()["count"])

    def active_jobs(self) -> list[dict[str, Any]]:
        found = []
        for status in ("pending", "running"):
            response = self.get("/api/jobs", params={"status": status, "limit": 100})
            response.raise_for_status()
            found += response.json()["items"]
        return found

    # --- lifetime ------------------------------------------------------------------------------------
    def start(self) -> None:
        self.pg_init()
        self.pg_start()
        created = self._as_postgres(
            str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.ports["pg"]), "-U", "postgres", "resync"
        )
        if created.returncode != 0:
            pytest.fail(f"createdb failed: {created.stderr}")
        self.redis_start()
        for args in (("migrate", "--no-input", "-v", "0"), ("demo_setup", "--username", ADMIN)):
            done = self.manage(*args)
            if done.returncode != 0:
                pytest.fail(f"manage.py {args[0]} failed: {done.stdout[-3000:]}{done.stderr[-3000:]}")
        self.api_token = self._create_token()
        self.sim_start()
        self.demo_start()
        self.web_start()
        self.worker_start()

    def _create_token(self) -> str:
        script = (
            "from django.contrib.auth import get_user_model\n"
            "from resync_site.services import token_create\n"
            f"user = get_user_model().objects.get(username={ADMIN!r})\n"
            "_, raw = token_create(user=user, name='drills', acting_user=user)\n"
            "print('DRILL-TOKEN=' + raw)\n"
        )
        done = self.manage("shell", "-c", script)
        for line in done.stdout.splitlines():
            if line.startswith("DRILL-TOKEN="):
                return line.split("=", 1)[1].strip()
        pytest.fail(f"could not create the API token: {done.stdout[-2000:]}{done.stderr[-2000:]}")

    def teardown(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name, timeout=10)
        self.kill_leftovers()
        if self.pg_data.exists():
            self.pg_ctl("stop", "-m", "immediate")
        pid_file = self.pg_data / "postmaster.pid"
        if pid_file.exists():  # pg_ctl failed: stop the postmaster by its recorded pid
            with contextlib.suppress(ValueError, ProcessLookupError, OSError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def leftovers(self) -> list[psutil.Process]:
        """Return the processes (ETL steps included) still running with this stack's environment."""
        marker = f"RESYNC_VAR_DIR={self.var_dir}"
        found = []
        for proc in psutil.process_iter(["pid"]):
            if proc.pid == os.getpid():
                continue
            with contextlib.suppress(psutil.Error):
                environ = proc.environ()
                if f"RESYNC_VAR_DIR={environ.get('RESYNC_VAR_DIR')}" == marker and proc.status() != "zombie":
                    found.append(proc)
        return found

    def kill_leftovers(self) -> None:
        for proc in self.leftovers():
            with contextlib.suppress(psutil.Error):
                proc.kill()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Start the production-shaped stack once for the drills; stop every process of it at the end."""

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}: stopping the drill stack")

    # A CI runner that stops pytest with SIGTERM must still get the teardown below.
    previous = signal.signal(signal.SIGTERM, interrupted)
    the_stack = Stack()
    try:
        started = time.monotonic()
        the_stack.start()
        the_stack.figures["stack start-up (s)"] = time.monotonic() - started
        yield the_stack
    finally:
        the_stack.teardown()
        signal.signal(signal.SIGTERM, previous)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the durations the drills observed (for docs/drills.md; never asserted)."""
    if FIGURES:
        terminalreporter.section("fault drill figures")
        for name, seconds in FIGURES.items():
            terminalreporter.write_line(f"{name}: {seconds:.2f}")
