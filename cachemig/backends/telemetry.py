"""Counters, latency histograms and the guard window of a migrating cache, shared by its instances.

Django builds one cache instance per thread (and per async context), so the
figures live here, keyed by the migrating cache's LOCATION, and every instance
of that LOCATION adds to the same ones. Prometheus reads them through one
collector at scrape time: the hot path pays one lock and a few integer
additions, never a prometheus_client call.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Literal

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from cachemig import flags
from cachemig.flags.figures import FleetWindow

Side = Literal["legacy", "new"]
MismatchKind = Literal["value", "missing_new", "missing_legacy"]
Outcome = Literal["ok", "error", "rejected"]
ReadResult = Literal["hit", "miss", "not_a_read"]
METRICS_FLAG = "MIGRATION_ENABLE_METRICS"
METRICS_FLAG_RECHECK_SECONDS = 1.0
LATENCY_BUCKETS = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
RECENT_MISMATCHES = 20


# The guard window's counters of the new side, and their short names in the shared figures.
WINDOW_FIELDS = ("attempts", "errors", "routed", "fallbacks")
WINDOW_CODES = ("a", "e", "r", "f")


class Telemetry:
    """The figures of one migrating cache (one LOCATION) in this process."""

    def __init__(self, name: str, *, window_seconds: int) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.hits = {"legacy": 0, "new": 0}
        self.misses = {"legacy": 0, "new": 0}
        self.fallbacks: dict[str, int] = {}
        self.errors: dict[tuple[str, str], int] = {}
        self.shadow_compared = 0
        self.mismatches: dict[str, int] = {"value": 0, "missing_new": 0, "missing_legacy": 0}
        self.recent_mismatches: deque[dict[str, str]] = deque(maxlen=RECENT_MISMATCHES)
        self.latency: dict[tuple[str, str], list[float]] = {}
        # Counted under this object's lock, on the hot path; published and summed across processes.
        self.window = FleetWindow(name, fields=WINDOW_FIELDS, codes=WINDOW_CODES, size=window_seconds, lock=self.lock)
        self.circuit_state = 0
        self.circuit_opened = 0
        self._metrics_on = True
        self._metrics_checked = 0.0

    def metrics_on(self) -> bool:
        """Return whether latency is measured (flag MIGRATION_ENABLE_METRICS, re-read every second)."""
        now = time.monotonic()
        if now >= self._metrics_checked:
            self._metrics_checked = now + METRICS_FLAG_RECHECK_SECONDS
            try:
                self._metrics_on = flags.is_enabled(METRICS_FLAG)
            except Exception:  # noqa: BLE001 — a flag store failure must not break a cache call
                self._metrics_on = True
        return self._metrics_on

    def read(self, side: Side, found: bool) -> None:
        """Count one read answered by ``side``."""
        with self.lock:
            if found:
                self.hits[side] += 1
            else:
                self.misses[side] += 1

    def new_outcome(
        self,
        operation: str,
        outcome: Outcome,
        *,
        routed: bool,
        seconds: float | None = None,
        read: ReadResult = "not_a_read",
    ) -> bool:
        """Count one call meant for the new side, under one lock (the hot path); return whether to publish.

        ``ok`` and ``error`` reached the new side (attempts); ``rejected`` was
        stopped by the open breaker. A routed call that did not succeed was
        answered by the legacy side: a fallback.
        """
        with self.lock:
            now = int(time.time())
            bucket = self.window.bucket(now)
            if outcome != "rejected":
                bucket[0] += 1
            if routed:
                bucket[2] += 1
            if outcome == "ok":
                if read == "hit":
                    self.hits["new"] += 1
                elif read == "miss":
                    self.misses["new"] += 1
                if seconds is not None:
                    self._observe("new", operation, seconds)
                return self.window.due(now)
            if outcome == "error":
                bucket[1] += 1
                key = ("new", operation)
                self.errors[key] = self.errors.get(key, 0) + 1
            if routed:
                bucket[3] += 1
                self.fallbacks[operation] = self.fallbacks.get(operation, 0) + 1
            return self.window.due(now)

    def legacy_error(self, operation: str) -> None:
        """Count an exception raised by the legacy side."""
        with self.lock:
            key = ("legacy", operation)
            self.errors[key] = self.errors.get(key, 0) + 1

    def shadow(self, key: str, kind: MismatchKind | None) -> None:
        """Count one shadow comparison and its mismatch, if any."""
        with self.lock:
            self.shadow_compared += 1
            if kind is not None:
                self.mismatches[kind] += 1
                self.recent_mismatches.append({"key": key, "kind": kind})

    def observe(self, side: Side, operation: str, seconds: float) -> None:
        """Add one latency observation to the histogram of ``side`` × ``operation``."""
        with self.lock:
            self._observe(side, operation, seconds)

    def _observe(self, side: Side, operation: str, seconds: float) -> None:
        counts = self.latency.get((side, operation))
        if counts is None:
            counts = self.latency[(side, operation)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        counts[-1] += seconds

    def circuit_changed(self, new_code: int, opened_total: int) -> None:
        """Record the breaker's state; a recovery starts a fresh guard window."""
        with self.lock:
            if self.circuit_state != 0 and new_code == 0:
                self.window.clear()
            self.circuit_state = new_code
            self.circuit_opened = opened_total

    def window_totals(self, since: float = 0.0) -> dict[str, int]:
        """Return this process's figures of the guard window, counted from ``since`` (epoch seconds)."""
        return self.window.totals(since)

    def snapshot(self) -> dict[str, Any]:
        """Return every figure as plain data (the stats, the admin panel, the commands)."""
        with self.lock:
            hits, misses = dict(self.hits), dict(self.misses)
            latency = {f"{side}.{op}": _summary(counts) for (side, op), counts in sorted(self.latency.items())}
            return {
                "hits": hits,
                "misses": misses,
                "hit_rate": {side: _ratio(hits[side], hits[side] + misses[side]) for side in hits},
                "fallbacks": dict(self.fallbacks),
                "fallbacks_total": sum(self.fallbacks.values()),
                "errors": {f"{side}.{op}": n for (side, op), n in sorted(self.errors.items())},
                "errors_total": sum(self.errors.values()),
                "shadow": {
                    "compared": self.shadow_compared,
                    "mismatches": dict(self.mismatches),
                    "mismatches_total": sum(self.mismatches.values()),
                    "recent": list(self.recent_mismatches),
                },
                "latency": latency,
                "circuit": {"state": _STATE_NAMES[self.circuit_state], "opened_total": self.circuit_opened},
            }


_STATE_NAMES = {0: "closed", 1: "open", 2: "half_open"}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _summary(counts: list[float]) -> dict[str, float | None]:
    total = sum(counts[:-1])
    return {
        "count": total,
        "mean_ms": round(counts[-1] / total * 1000, 4) if total else None,
        "p50_ms": _quantile_ms(counts, 0.50),
        "p99_ms": _quantile_ms(counts, 0.99),
    }


def _quantile_ms(counts: list[float], q: float) -> float | None:
    # Upper bound of the bucket holding the quantile, as Prometheus' histogram_quantile would bound it.
    total = sum(counts[:-1])
    if not total:
        return None
    running = 0.0
    for index, count in enumerate(counts[:-1]):
        running += count
        if running >= q * total:
            return LATENCY_BUCKETS[index] * 1000 if index < len(LATENCY_BUCKETS) else None
    return None


_registry: dict[str, Telemetry] = {}
_registry_lock = threading.Lock()


def telemetry_for(name: str, *, window_seconds: int) -> Telemetry:
    """Return the figures of the migrating cache ``name``, created on first use."""
    found = _registry.get(name)
    if found is None:
        with _registry_lock:
            found = _registry.setdefault(name, Telemetry(name, window_seconds=window_seconds))
    return found


def forget(name: str) -> None:
    """Drop the figures of ``name`` (tests building many caches)."""
    with _registry_lock:
        _registry.pop(name, None)


class MigrationCollector(Collector):
    """Expose every migrating cache's figures under the names of DESIGN.md §4.6."""

    def describe(self) -> Iterator[Any]:
        """Yield the families without samples: registering must not evaluate a flag (no database at start-up)."""
        yield from _families().values()

    def collect(self) -> Iterator[Any]:
        """Yield the metric families, read from the shared figures at scrape time."""
        families = _families()
        try:
            enabled = flags.is_enabled(METRICS_FLAG)  # scrape time, not the hot path: no caching needed
        except Exception:  # noqa: BLE001 — a flag store failure must not break /metrics
            enabled = True
        if not enabled:
            return
        for item in list(_registry.values()):
            _add_samples(families, item)
        yield from families.values()


def _families() -> dict[str, Any]:
    return {
        "legacy_hits": CounterMetricFamily(
            "migration_legacy_hits", "Reads answered by the legacy cache that found the key", labels=["cache"]
        ),
        "new_hits": CounterMetricFamily(
            "migration_new_hits", "Reads answered by the new cache that found the key", labels=["cache"]
        ),
        "misses": CounterMetricFamily("migration_cache_misses", "Reads that found nothing", labels=["cache", "side"]),
        "fallbacks": CounterMetricFamily(
            "migration_fallbacks",
            "Calls routed to the new cache answered by the legacy one (error or open circuit)",
            labels=["cache", "operation"],
        ),
        "errors": CounterMetricFamily(
            "migration_errors", "Exceptions raised by a cache side", labels=["cache", "side", "operation"]
        ),
        "mismatches": CounterMetricFamily(
            "migration_shadow_mismatches", "Shadow reads where the two sides disagreed", labels=["cache", "kind"]
        ),
        "compared": CounterMetricFamily("migration_shadow_reads", "Shadow reads compared", labels=["cache"]),
        "hit_rate": GaugeMetricFamily("migration_cache_hit_rate", "Hits over reads per side", labels=["cache", "side"]),
        "circuit": GaugeMetricFamily(
            "migration_cache_circuit_state", "Breaker of the new side: 0 closed, 1 open, 2 half-open", labels=["cache"]
        ),
        "circuit_opens": CounterMetricFamily(
            "migration_cache_circuit_open", "Times the new side's breaker opened", labels=["cache"]
        ),
        "latency": HistogramMetricFamily(
            "migration_cache_operation_seconds",
            "Latency of each call to a cache side",
            labels=["cache", "side", "operation"],
        ),
    }


def _add_samples(families: dict[str, Any], item: Telemetry) -> None:
    with item.lock:
        name = item.name
        families["legacy_hits"].add_metric([name], item.hits["legacy"])
        families["new_hits"].add_metric([name], item.hits["new"])
        for side, count in item.misses.items():
            families["misses"].add_metric([name, side], count)
            total = item.hits[side] + count
            families["hit_rate"].add_metric([name, side], item.hits[side] / total if total else 0.0)
        for operation, count in item.fallbacks.items():
            families["fallbacks"].add_metric([name, operation], count)
        for (side, operation), count in item.errors.items():
            families["errors"].add_metric([name, side, operation], count)
        for kind, count in item.mismatches.items():
            families["mismatches"].add_metric([name, kind], count)
        families["compared"].add_metric([name], item.shadow_compared)
        families["circuit"].add_metric([name], item.circuit_state)
        families["circuit_opens"].add_metric([name], item.circuit_opened)
        for (side, operation), counts in item.latency.items():
            running, buckets = 0.0, []
            for bound, observed in zip((*LATENCY_BUCKETS, float("inf")), counts[:-1], strict=True):
                running += observed
                buckets.append((str(bound) if bound != float("inf") else "+Inf", running))
            families["latency"].add_metric([name, side, operation], buckets, counts[-1])


def _register_collector() -> None:
    # Already registered when this module is imported again (reloads in tests).
    with contextlib.suppress(ValueError):
        REGISTRY.register(MigrationCollector())


_register_collector()
