"""Start-up and shutdown phases, with the names the operators know.

The process owner (``resync_site.process``, run by the ``serve`` and ``worker``
commands) drives these phases; nothing here runs at import time or from
``AppConfig.ready()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError
from django.utils.module_loading import import_string

from core.errors import KeyRingError
from core.keyring import load_keyring
from core.redaction import register_secret
from resync_site.hooks import declared

log = logging.getLogger("resync.lifecycle")


class StartupError(Exception):
    """A core system is not usable; the message tells the operator what to fix."""


def _phase(name: str) -> float:
    log.info("phase %s: started", name, extra={"phase": name})
    return time.perf_counter()


def _phase_done(name: str, started: float, **extra: Any) -> None:
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    log.info("phase %s: done in %s ms", name, elapsed, extra={"phase": name, "elapsed_ms": elapsed, **extra})


def _probe_pooled_database(params: dict[str, Any]) -> None:
    # A pool retries for its whole timeout before giving up; start-up must fail within seconds,
    # so a pooled PostgreSQL is probed once directly, with the connect timeout.
    options = params.get("OPTIONS", {})
    if "postgresql" not in params["ENGINE"] or not options.get("pool"):
        return
    import psycopg

    psycopg.connect(
        dbname=params["NAME"],
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        connect_timeout=int(options.get("connect_timeout", 5)),
    ).close()


# The platform's own secrets, by the variables that carry them: masked in every log line (a step's output
# included) should anything print them. The children never receive them (etl.runner.plan.inherited_env).
PLATFORM_SECRET_VARIABLES = (
    "SECRET_KEY",
    "RESYNC_OBSERVABILITY_TOKEN",
    "DATABASE_URL",
    "REDIS_URL",
    "CACHEMIG_NEW_CACHE_URL",
    "TWS_PASSWORD",
    "AUDIT_KEYRING",
)


def register_platform_secrets() -> None:
    """Register the platform's secrets with the redaction filter (values, and the passwords inside URLs)."""
    values = [os.environ.get(name, "") for name in PLATFORM_SECRET_VARIABLES]
    values += [str(settings.SECRET_KEY), str(getattr(settings, "RESYNC_OBSERVABILITY_TOKEN", "") or "")]
    values += [str(db.get("PASSWORD") or "") for db in settings.DATABASES.values()]
    for value in list(values):
        if "://" in value:
            with contextlib.suppress(ValueError):
                values.append(urlsplit(value).password or "")
    for value in values:
        register_secret(value)


def initialize_core_systems() -> None:
    """Fail fast unless the database, migrations and key ring are usable."""
    started = _phase("initialize_core_systems")
    register_platform_secrets()
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        _probe_pooled_database(connection.settings_dict)
        connection.ensure_connection()
    except Exception as exc:
        if not isinstance(exc, OperationalError) and type(exc).__module__.split(".")[0] != "psycopg":
            raise
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartupError(f"database unreachable ({connection.vendor}): {first_line}") from None
    plan = MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    if plan:
        raise StartupError(f"{len(plan)} database migration(s) not applied: run `python manage.py migrate`")
    try:
        load_keyring()
    except KeyRingError as exc:
        raise StartupError(str(exc)) from None
    for path in declared("resync_core_checks"):
        check: Callable[[], None] = import_string(path)
        try:
            check()
        except Exception as exc:
            raise StartupError(f"{path}: {exc}") from exc
    _phase_done("initialize_core_systems", started, database=connection.vendor)


async def start_background_services(tg: asyncio.TaskGroup) -> dict[str, str]:
    """Start each background service in ``tg``; a failure degrades, never aborts."""
    started = _phase("start_background_services")
    states: dict[str, str] = {}
    for path in declared("resync_background_services"):
        try:
            start: Callable[[asyncio.TaskGroup], Awaitable[None]] = import_string(path)
            await start(tg)
            states[path] = "ok"
        except Exception as exc:  # noqa: BLE001 — degraded, reported, not fatal
            states[path] = f"degraded: {type(exc).__name__}: {exc}"
            log.warning("background service %s degraded: %s", path, exc)
    _phase_done("start_background_services", started, services=states)
    return states


def initialize_schedulers() -> list[str]:
    """Log the periodic tasks the consumer will run and the heavy-work interval."""
    from huey.contrib.djhuey import HUEY

    started = _phase("initialize_schedulers")
    periodic = sorted(
        name for name, task_class in HUEY._registry._registry.items() if getattr(task_class, "validate_datetime", None)
    )
    _phase_done(
        "initialize_schedulers",
        started,
        periodic_tasks=periodic,
        heavy_task_interval_seconds=settings.RESYNC_HEAVY_TASK_INTERVAL_SECONDS,
    )
    return periodic


def start_monitoring_system() -> None:
    """Publish build and environment information on /metrics."""
    from prometheus_client import REGISTRY, Info

    started = _phase("start_monitoring_system")
    if "resync_build_info" not in REGISTRY._names_to_collectors:  # idempotent across test runs
        Info("resync_build", "Resync build and environment").info(
            {"environment": settings.RESYNC_ENV, "version": "0.1.0"}
        )
    _phase_done("start_monitoring_system", started)


async def shutdown_application(
    *,
    stop_intake: Callable[[], Awaitable[None]],
    stop_workers: Callable[[], Awaitable[None]],
    cancel_services: Callable[[], Awaitable[None]],
) -> None:
    """Stop taking work, finish or cancel running work, flush the audit trail, close the database."""
    started = _phase("shutdown_application")
    log.info("shutdown: stop taking work")
    await stop_intake()
    log.info("shutdown: waiting for running tasks")
    await stop_workers()
    for path in declared("resync_shutdown_drains"):
        drain: Callable[[], Awaitable[None]] = import_string(path)
        try:
            await drain()
            log.info("shutdown: drained %s", path)
        except Exception:
            log.exception("shutdown: drain %s failed", path)
    await cancel_services()
    await sync_to_async(connections.close_all, thread_sensitive=True)()
    log.info("shutdown: database connections closed")
    _phase_done("shutdown_application", started)
