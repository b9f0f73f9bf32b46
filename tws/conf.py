"""Settings of the tws app, read in one place with their defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Monitor: how often the plan is synced (Huey periodic task: whole minutes, or a divisor of 60 below one).
    "TWS_MONITOR_INTERVAL_SECONDS": 60,
    # Cache TTLs (seconds) of TWS answers by kind.
    "TWS_CACHE_TTL_STATUS": 10,
    "TWS_CACHE_TTL_STATIC": 3600,
    # Embedded simulator (started by `serve` when TWS_BASE_URL is unset).
    "TWS_SIMULATOR_PORT": 31116,
    "TWS_SIMULATOR_JOBS": 2000,
    "TWS_SIMULATOR_SEED": 7,
    "TWS_SIMULATOR_FAULTS": "",
    # Page size of plan sync queries (HWA caps at 10000).
    "TWS_SYNC_PAGE_SIZE": 5000,
    # Retention (days): job status transitions and plan sync runs older than this are purged (by the
    # platform's retention task, in batches of TWS_RETENTION_BATCH_SIZE rows, each sealed into the audit trail).
    "TWS_TRANSITION_RETENTION_DAYS": 90,
    "TWS_SYNC_RUN_RETENTION_DAYS": 30,
    "TWS_RETENTION_BATCH_SIZE": 2000,
    # How long a routing decision (v2 or legacy, flag TWS_UNIFIED_V2_ENABLED) is reused for the same key.
    "TWS_FLAG_CACHE_SECONDS": 2.0,
}


def get(name: str) -> Any:
    """Return the app setting ``name`` (Django settings override the default)."""
    return getattr(settings, name, DEFAULTS[name])


def monitor_interval_seconds() -> int:
    """Return the monitor interval."""
    return int(get("TWS_MONITOR_INTERVAL_SECONDS"))


def cache_ttl(kind: str) -> int:
    """Return the cache TTL of answers of ``kind`` ("status" or "static")."""
    return int(get("TWS_CACHE_TTL_STATUS" if kind == "status" else "TWS_CACHE_TTL_STATIC"))


def problems() -> list[str]:
    """Return operator-readable problems of the configured values."""
    found: list[str] = []
    for name in ("TWS_MONITOR_INTERVAL_SECONDS", "TWS_SYNC_PAGE_SIZE"):
        value = get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            found.append(f"{name} must be a positive whole number, not {value!r}")
    for name in ("TWS_CACHE_TTL_STATUS", "TWS_CACHE_TTL_STATIC"):
        value = get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            found.append(f"{name} must be a whole number of seconds (0 disables the cache), not {value!r}")
    interval = get("TWS_MONITOR_INTERVAL_SECONDS")
    if isinstance(interval, int) and not isinstance(interval, bool) and 0 < interval < 60 and 60 % interval:
        found.append(f"TWS_MONITOR_INTERVAL_SECONDS below 60 must divide 60 (5, 10, 15, 20, 30), not {interval}")
    if isinstance(get("TWS_SYNC_PAGE_SIZE"), int) and get("TWS_SYNC_PAGE_SIZE") > 10_000:
        found.append("TWS_SYNC_PAGE_SIZE must be at most 10000 (the HWA page limit)")
    reuse = get("TWS_FLAG_CACHE_SECONDS")
    if not isinstance(reuse, int | float) or isinstance(reuse, bool) or reuse < 0:
        found.append(
            f"TWS_FLAG_CACHE_SECONDS must be a number of seconds (0 re-reads the flag every call), not {reuse!r}"
        )
    port = get("TWS_SIMULATOR_PORT")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        found.append(f"TWS_SIMULATOR_PORT must be a TCP port number, not {port!r}")
    return found


def flag_cache_seconds() -> float:
    """Return how long a routing decision (v2 or legacy) is reused for the same key."""
    return float(get("TWS_FLAG_CACHE_SECONDS"))
