"""Factories and fixtures of the etl tests."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hash the fixture users' passwords cheaply: these tests are about ETL, not login."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Start each test without cached stats, permissions or rate counts (ids repeat across tests)."""
    from django.core.cache import caches

    from resync_site.permissions import forget_all

    forget_all()
    for alias in ("default", "legacy"):
        caches[alias].clear()
    yield
    forget_all()


@pytest.fixture
def make_system(db: None, settings: Any) -> Callable[..., Any]:
    """Return a factory of active systems with a complete credential; ``script`` becomes its configured command."""
    from etl import services

    settings.ETL_COMMANDS = {}

    def make(code: str = "maps", *, script: str | None = None, active: bool = True, credential: bool = True) -> Any:
        command_name = None
        if script:
            command_name = f"test-{code}"
            settings.ETL_COMMANDS = {
                **settings.ETL_COMMANDS,
                command_name: [sys.executable, "-c", textwrap.dedent(script)],
            }
        system = services.system_save(
            code=code,
            name=code.upper(),
            active=active,
            base_url="http://127.0.0.1:9",
            command_name=command_name,
            acting_user=None,
        )
        if credential:
            from etl import catalog

            for account in catalog.profile_for(code).subaccounts:
                services.credential_save(
                    system_id=system.pk,
                    subaccount=account,
                    url="http://127.0.0.1:9",
                    username=f"{code}-{account or 'user'}",
                    password=f"s3cret-{code}-{account}-pw",
                    acting_user=None,
                )
        return system

    return make


@pytest.fixture
def start_job(operator: Any) -> Callable[..., Any]:
    """Return a function that creates a job of the given systems (without running it)."""
    from etl.services import job_execute

    def start(*codes: str, options: dict[str, Any] | None = None) -> Any:
        return job_execute(systems=list(codes), options=options or {"data_inicial": "2025-01-15"}, acting_user=operator)

    return start


@pytest.fixture
def enqueued() -> Iterator[list[int]]:
    """Collect the ids of the jobs handed to a worker, instead of queueing them (the test runs them itself)."""
    import dataclasses

    from etl.services.workers import worker_side, worker_side_plug

    ids: list[int] = []
    previous = worker_side_plug(dataclasses.replace(worker_side(), enqueue=ids.append))
    yield ids
    if previous is not None:
        worker_side_plug(previous)


@pytest.fixture
def no_enqueue(enqueued: list[int]) -> None:
    """Keep jobs in the database only: the test runs them itself."""


@pytest.fixture
def fast_runner(settings: Any) -> None:
    """Short heartbeat and grace so cancellation tests finish quickly."""
    settings.ETL_HEARTBEAT_SECONDS = 0.2
    settings.ETL_CANCEL_GRACE_SECONDS = 1.0


def wait_for(predicate: Callable[[], Any], *, timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns a truthy value (generous timeout: not a timing assertion)."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OperationalError as exc:  # an in-memory SQLite test database locks tables, not rows
            if "locked" not in str(exc):
                raise
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def alive_pids(pids: list[int]) -> list[int]:
    """Return those of ``pids`` still running (zombies waiting to be reaped count as gone)."""
    import psutil

    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def retry_locked(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``, again while an in-memory SQLite test database reports a table lock."""
    from etl.runner.job import _retry_locked

    return _retry_locked(fn, *args, **kwargs)


@pytest.fixture
def run_in_thread() -> Iterator[Callable[[int], threading.Thread]]:
    """Run a job's runner in a background thread, as a Huey worker thread would."""
    threads: list[threading.Thread] = []

    def start(job_id: int) -> threading.Thread:
        from django.db import connection

        from etl.runner.job import run_job

        def target() -> None:
            try:
                run_job(job_id)
            finally:
                connection.close()

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.join(timeout=20)


@pytest.fixture
def shared_database_url(transactional_db: None) -> str:
    """Return a DATABASE_URL another process can open (skip on an in-memory SQLite test database)."""
    from etl.runner.plan import database_url

    url = database_url()
    if not url:
        pytest.skip("the test database is in memory: another process cannot reach it (the PostgreSQL pass covers this)")
    return url


@pytest.fixture
def demo_server(settings: Any) -> Iterator[str]:
    """Run the demo reports server on a free port in a background loop; return its base URL."""
    import asyncio

    from etl.demo.server import start

    loop = asyncio.new_event_loop()
    ready: dict[str, Any] = {}

    async def main() -> None:
        runner, url = await start("127.0.0.1", 0)
        ready["url"], ready["runner"] = url, runner
        ready["stop"] = asyncio.Event()
        await ready["stop"].wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    wait_for(lambda: "stop" in ready)
    settings.ETL_DEMO_SERVER_PORT = int(ready["url"].rsplit(":", 1)[1])
    yield ready["url"]
    loop.call_soon_threadsafe(ready["stop"].set)
    thread.join(timeout=5)
