"""A real `manage.py serve` on a free port with demo data and slow systems, and a headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RESYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "e2e-Admin-pw-4711"

# Systems whose "pipeline" prints numbered lines slowly, so a run can be watched, dropped and cancelled.
SLOW_SCRIPT = """
import sys, time
total, pause = int(sys.argv[1]), float(sys.argv[2])
for i in range(1, total + 1):
    level = "WARNING" if i % 50 == 0 else "INFO"
    print(f"[{level}] [SLOW] line {i} of {total}", flush=True)
    if i % 25 == 0:
        print(f"[PROGRESS] [SLOW] {min(99, 100 * i // total)} linha {i}", flush=True)
    time.sleep(pause)
"""
SETUP = textwrap.dedent(
    """
    import sys
    from etl import services
    for code, total, pause in (("slowdemo", 300, 0.02), ("slowcancel", 100000, 0.02)):
        system = services.system_save(code=code, name=code.upper(), active=True, base_url="http://127.0.0.1:9",
                                      command_name=code, acting_user=None)
        services.credential_save(system_id=system.pk, url="http://127.0.0.1:9", username="demo",
                                 password="demo-password", acting_user=None)
    # A finished run of 100,000 lines for the windowed view.
    from django.utils import timezone
    from etl.models import Job, JobStep, LogLine, System
    now = timezone.now()
    big = Job.objects.create(kind="single", systems=["slowdemo"], options={"data_inicial": "2025-01-15"},
                             status="success", created_at=now, started_at=now, finished_at=now, duration_seconds=1)
    step = JobStep.objects.create(job=big, system=System.objects.get(code="slowdemo"), order=1, status="success",
                                  progress=100, line_count=100000)
    levels = ("DEBUG", "INFO", "INFO", "WARNING", "ERROR")
    LogLine.objects.bulk_create(
        (LogLine(job=big, step=step, seq=n, timestamp=now, level=levels[n % 5], system="slowdemo",
                 message=f"big line {n}") for n in range(1, 100001)),
        batch_size=5000)
    print("BIG_JOB=" + str(big.pk))
    """
)


def wait_for(page: Any, expression: str, timeout: float = 30_000) -> None:
    """Wait until ``expression`` is truthy in the page.

    Playwright's ``wait_for_function`` evaluates its predicate with ``eval`` inside the page, which
    the Content-Security-Policy forbids; ``evaluate`` goes through the DevTools protocol instead.
    """
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression!r} still false after {timeout / 1000:.0f} s")
        page.wait_for_timeout(100)


@dataclass
class Server:
    """A running console."""

    url: str
    database: Path
    var_dir: Path
    big_job: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr[-3000:]}")
    return done.stdout


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Return the Chromium binary (skip with the reason when it is missing outside CI)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing: `make test` installs it with apt-get install -y chromium")
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    """Start `manage.py serve` on a free port (own var dir, SQLite, in-memory layer, in-process worker)."""
    var_dir = tmp_path_factory.mktemp("e2e-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "DJANGO_"))}
    env.update(RESYNC_VAR_DIR=str(var_dir), RESYNC_ADMIN_PASSWORD=PASSWORD, PYTHONUNBUFFERED="1")
    # Ports of its own for the embedded simulator and demo server: another console may hold the fixed ones.
    env.update(TWS_SIMULATOR_PORT=str(_free_port()), ETL_DEMO_SERVER_PORT=str(_free_port()))
    # The slow systems' program, configured as production configures commands (a System only names one).
    slow = {"slowdemo": ("300", "0.02"), "slowcancel": ("100000", "0.02")}
    env["ETL_COMMANDS"] = json.dumps({code: [sys.executable, "-c", SLOW_SCRIPT, *args] for code, args in slow.items()})
    _manage(env, "migrate", "--no-input", "-v", "0")
    _manage(env, "demo_setup")
    out = _manage(env, "shell", "-c", f"SCRIPT = {SLOW_SCRIPT!r}\n{SETUP}")
    big_job = int(next(line[8:] for line in out.splitlines() if line.startswith("BIG_JOB=")))
    port = _free_port()
    log = (var_dir / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("serve did not start: " + (var_dir / "serve.log").read_text()[-3000:])
        time.sleep(0.2)
    try:
        yield Server(url=url, database=var_dir / "resync.sqlite3", var_dir=var_dir, big_job=big_job)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(var_dir / "serve.log", ARTIFACTS / "e2e-serve.log")


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """Return a headless Chromium driven by Playwright (the system browser; nothing is downloaded)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Return a page logged in to the admin as the demo admin; a screenshot is kept at the end."""
    context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.on("dialog", lambda dialog: dialog.accept())
    # A page that breaks the Content-Security-Policy fails its test: the browser would block that part.
    violations: list[str] = []
    tab.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    tab.goto(f"{server.url}/admin/login/?next=/admin/")
    tab.fill("#id_username", "admin")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{server.url}/admin/")
    try:
        yield tab
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
        context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"
