"""The guard of MIGRATION_USE_NEW_CACHE: is the new cache healthy enough to serve more keys?

Breached when the new side's breaker is open, a probe read fails, or over the
guard window (from the flag's current stage on) its error ratio or fallback
ratio passes the configured maximum.
The figures are the whole fleet's when the new side is Redis
(``cachemig.flags.figures``), else this process's; the probe makes a dead
Redis visible to any process that runs the guard, even one that served no
cache traffic.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from cachemig import flags
from cachemig.backends.base import MigratingBase

GUARDED_ALIAS = "default"
_registered: set[str] = set()
_lock = threading.Lock()


def ensure_registered(flag: str) -> None:
    """Register the cache guard for ``flag`` once per process (called when a migrating cache is built)."""
    if flag in _registered and flags.guard_for(flag) is migration_cache_guard:
        return  # registered, and not replaced since (by a test or an operator): nothing to do
    with _lock:
        flags.register_guard(flag, migration_cache_guard)
        _registered.add(flag)


def migration_cache_guard() -> flags.GuardReport:
    """Judge the migrating cache configured as ``CACHES["default"]``."""
    cache = caches[GUARDED_ALIAS]
    if not isinstance(cache, MigratingBase):
        return flags.GuardReport(ok=True, figures={}, reason="the default cache is not a MigratingCache")
    return evaluate(cache)


def evaluate(cache: MigratingBase) -> flags.GuardReport:
    """Return the guard report of ``cache``: probe, breaker, error and fallback ratios."""
    options = cache.options
    probe_ok = cache.probe_new() if options.guard_probe else True
    totals, fleet = cache.guard_totals(_stage_started(options.flag))
    attempts, routed = totals["attempts"], totals["routed"]
    error_ratio = totals["errors"] / attempts if attempts else 0.0
    fallback_ratio = totals["fallbacks"] / routed if routed else 0.0
    circuit = cache.breaker.state
    figures = {
        "new_attempts": float(attempts),
        "new_errors": float(totals["errors"]),
        "routed_to_new": float(routed),
        "fallbacks": float(totals["fallbacks"]),
        "error_ratio": round(error_ratio, 4),
        "max_error_ratio": options.guard_max_error_ratio,
        "fallback_ratio": round(fallback_ratio, 4),
        "max_fallback_ratio": options.guard_max_fallback_ratio,
        "min_samples": float(options.guard_min_samples),
        "circuit_open": 1.0 if circuit != "closed" else 0.0,
        "probe_ok": 1.0 if probe_ok else 0.0,
        "fleet_figures": 1.0 if fleet else 0.0,
        # The names the rollout gates read: calls routed to the new side since the stage began.
        "calls": float(routed),
        "min_calls": float(options.guard_min_samples),
    }
    problems = []
    if circuit != "closed":
        problems.append(f"new cache circuit is {circuit.replace('_', '-')}")
    if not probe_ok:
        problems.append("new cache did not answer a probe read")
    if attempts >= options.guard_min_samples and error_ratio > options.guard_max_error_ratio:
        problems.append(f"error ratio {error_ratio:.1%} > {options.guard_max_error_ratio:.1%}")
    if routed >= options.guard_min_samples and fallback_ratio > options.guard_max_fallback_ratio:
        problems.append(f"fallback ratio {fallback_ratio:.1%} > {options.guard_max_fallback_ratio:.1%}")
    if problems:
        return flags.GuardReport(ok=False, figures=figures, reason="; ".join(problems))
    window = options.guard_window_seconds
    return flags.GuardReport(ok=True, figures=figures, reason=f"{attempts} new-cache calls in {window}s within limits")


def _stage_started(flag: str) -> float:
    try:
        when = flags.stage_started_at(flag)
    except Exception:  # noqa: BLE001 — the guard must answer even when the flag store does not
        return 0.0
    return when.timestamp() if when is not None else 0.0


def health_check() -> dict[str, object]:
    """Report the migration's state for /health/detailed: degraded while the new side's circuit is open."""
    cache = caches[GUARDED_ALIAS]
    if not isinstance(cache, MigratingBase):
        return {"status": "ok", "detail": "the default cache is not a MigratingCache"}
    state = cache.breaker.state
    detail = {
        "circuit": state,
        "keys_to_repair": cache.dirty.count(),
        "fallbacks_total": sum(cache.telemetry.fallbacks.values()),
    }
    return {"status": "ok" if state == "closed" else "degraded", "detail": detail}


def check_cache_settings() -> None:
    """Raise ImproperlyConfigured naming the problem if a MigratingCache in CACHES is misconfigured."""
    from django.conf import settings

    from cachemig.backends.options import MigratingOptions

    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") != "cachemig.backends.MigratingCache":
            continue
        raw_options: Any = config.get("OPTIONS", {})
        options = MigratingOptions.from_params(raw_options)
        for side in (options.legacy_alias, options.new_alias):
            if side not in settings.CACHES:
                raise ImproperlyConfigured(f"CACHES[{alias!r}] composes the alias {side!r}, which CACHES lacks")
            if settings.CACHES[side].get("BACKEND") == "cachemig.backends.MigratingCache":
                raise ImproperlyConfigured(f"CACHES[{alias!r}] composes {side!r}, itself a MigratingCache")
