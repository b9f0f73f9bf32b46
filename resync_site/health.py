"""Health: liveness without I/O and a detailed report of every component."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils.module_loading import import_string

from resync_site.hooks import declared

Status = Literal["ok", "degraded", "down"]
Check = Callable[[], dict[str, Any]]
CHECK_TIMEOUT_SECONDS = 3.0
_STARTED = time.monotonic()


def liveness_payload() -> dict[str, Any]:
    """Return the liveness answer: the process runs and serves."""
    return {"status": "ok", "pid": os.getpid(), "uptime_seconds": round(time.monotonic() - _STARTED, 1)}


def check_database() -> dict[str, Any]:
    """Run ``SELECT 1`` and report the vendor."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "detail": connection.vendor}


def _check_cache(alias: str) -> Check:
    def check() -> dict[str, Any]:
        cache = caches[alias]
        key = f"resync:health:{os.getpid()}"
        cache.set(key, "1", 10)
        if cache.get(key) != "1":
            return {"status": "degraded", "detail": "a value written was not read back"}
        return {"status": "ok", "detail": type(cache).__name__}

    check.__name__ = f"check_cache_{alias}"
    return check


def check_huey() -> dict[str, Any]:
    """Report the queue depth of the task queue's storage."""
    from huey.contrib.djhuey import HUEY

    return {"status": "ok", "detail": type(HUEY).__name__, "pending": HUEY.pending_count()}


def check_channel_layer() -> dict[str, Any]:
    """Send one message through the channel layer and read it back."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return {"status": "down", "detail": "no channel layer configured"}

    async def roundtrip() -> bool:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        return bool(message.get("type") == "health.ping")

    ok = async_to_sync(roundtrip)()
    return {"status": "ok" if ok else "degraded", "detail": type(layer).__name__}


def components() -> list[tuple[str, Check, bool]]:
    """Return every (name, check, critical) of /health/detailed."""
    built_in: list[tuple[str, Check, bool]] = [("database", check_database, True)]
    built_in += [(f"cache:{alias}", _check_cache(alias), False) for alias in settings.CACHES]
    built_in += [("huey", check_huey, False), ("channel_layer", check_channel_layer, False)]
    extra = [(name, import_string(path), critical) for name, path, critical in declared("resync_health_components")]
    return built_in + extra


def _call_closing(check: Check) -> dict[str, Any]:
    # Health checks run on pool threads: close their connections so none leak.
    try:
        return check()
    finally:
        connection.close()


async def _run(name: str, check: Check, critical: bool) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(
            sync_to_async(_call_closing, thread_sensitive=False)(check), timeout=CHECK_TIMEOUT_SECONDS
        )
    except TimeoutError:
        result = {"status": "down", "detail": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"}
    except Exception as exc:  # noqa: BLE001 — a failing component is reported, never raised
        result = {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "name": name,
        "critical": critical,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        **result,
    }


async def detailed_report() -> tuple[int, dict[str, Any]]:
    """Return (HTTP status, report): 200 when every critical component is ok, else 503."""
    results = await asyncio.gather(*(_run(n, c, crit) for n, c, crit in components()))
    critical_ok = all(r["status"] == "ok" for r in results if r["critical"])
    overall: Status = "ok" if all(r["status"] == "ok" for r in results) else ("degraded" if critical_ok else "down")
    return (200 if critical_ok else 503), {
        "status": overall,
        "environment": settings.RESYNC_ENV,
        "components": {r.pop("name"): r for r in results},
    }
