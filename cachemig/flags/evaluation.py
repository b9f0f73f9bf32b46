"""Evaluate flags from a per-process snapshot that is re-read at most every refresh interval.

Hot path: one monotonic-clock comparison, two dict lookups and, for a
percentage flag, one murmur3 hash. The snapshot is rebuilt from the database
when it is older than ``CACHEMIG_FLAGS_REFRESH_SECONDS`` (default 1 s), so a
change made in any process is seen everywhere within about that time; the
writing process also drops its snapshot when the change commits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import mmh3

from cachemig import conf
from cachemig.exceptions import UnknownFlagError
from cachemig.flags.record import DEFAULTS_OF_RECORD
from core.context import get_correlation_id, get_user_key

log = logging.getLogger("resync.flags")
_monotonic = time.monotonic
_murmur3 = mmh3.hash

Override = Literal["on", "off", "unset"]
Source = Literal["database", "defaults"]
LOAD_TIMEOUT_SECONDS = 5.0


def env_override(name: str) -> Override:
    """Return the ``APP_<NAME>`` override: "on", "off", or "unset"."""
    raw = os.environ.get(f"APP_{name}", "").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return "on"
    if raw in {"0", "false", "no", "off"}:
        return "off"
    return "unset"


def normalized_value(group_id: str, key: str) -> int:
    """Return the Unleash bucket (1-100) of ``key`` in ``group_id``: murmur3_x86_32, seed 0."""
    return mmh3.hash(f"{group_id}:{key}", 0, False) % 100 + 1


@dataclass(frozen=True)
class FlagState:
    """What the evaluation needs of one flag row."""

    state: str
    percent: int
    group_id: str
    stage_started_at: datetime | None


@dataclass
class Snapshot:
    """The flags of this process as last read, with the environment overrides seen then."""

    flags: dict[str, FlagState]
    source: Source
    loaded_at: float
    live_env: bool
    env: dict[str, Override] = field(default_factory=dict)
    # Per flag, what the hot path needs: a fixed answer (override, on, off) or
    # (bucketing prefix "<group id>:", percent). Empty when overrides are read live.
    fast: dict[str, bool | tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.live_env:
            return
        for name, flag in self.flags.items():
            override = self.override(name)
            if override != "unset":
                self.fast[name] = override == "on"
            elif flag.state == "on" or flag.state == "off" or flag.percent <= 0:
                self.fast[name] = flag.state == "on"
            else:
                self.fast[name] = (f"{flag.group_id}:", flag.percent)

    def override(self, name: str) -> Override:
        """Return the environment override of ``name`` (cached until the next refresh)."""
        if self.live_env:
            return env_override(name)
        found = self.env.get(name)
        if found is None:
            found = self.env[name] = env_override(name)
        return found


_snapshot = Snapshot(flags={}, source="defaults", loaded_at=0.0, live_env=True)
_next_check = 0.0
_lock = threading.Lock()  # held by the one thread re-reading the database in place
_executor_lock = threading.Lock()  # never held across I/O: event loop threads take it
_executor: ThreadPoolExecutor | None = None
_inflight: Future[Snapshot] | None = None
_test_overrides: dict[str, bool] = {}
_reported_unknown: set[str] = set()
_last_load_failed = False


def is_enabled(name: str, key: str | None = None) -> bool:
    """Return whether flag ``name`` is on for ``key`` (default: the current user, else the correlation id)."""
    if _test_overrides and name in _test_overrides:
        return _test_overrides[name]
    snap = _snapshot if _monotonic() < _next_check else current_snapshot()
    fast = snap.fast.get(name)
    if fast is not None:
        if isinstance(fast, bool):
            return fast
        prefix, percent = fast
        if key is None:
            key = get_user_key() or get_correlation_id()
            if key is None:
                return False
        return bool(_murmur3(f"{prefix}{key}", 0, False) % 100 + 1 <= percent)
    override = snap.override(name)
    if override != "unset":
        return override == "on"
    flag = snap.flags.get(name)
    if flag is None:
        return _unknown(name, snap)
    if flag.state == "on":
        return True
    if flag.state == "off" or flag.percent <= 0:
        return False
    if key is None:
        key = get_user_key() or get_correlation_id()
        if key is None:
            return False
    return mmh3.hash(f"{flag.group_id}:{key}", 0, False) % 100 + 1 <= flag.percent


def _unknown(name: str, snap: Snapshot) -> bool:
    if name in DEFAULTS_OF_RECORD:
        if snap.source == "database" and name not in _reported_unknown:
            _reported_unknown.add(name)
            log.error("flag of record %s has no row: using its default; run `manage.py migrate`", name)
        return DEFAULTS_OF_RECORD[name]
    if snap.source == "database" and conf.strict_flags():
        raise UnknownFlagError(f"unknown feature flag {name!r}: create it (admin or data migration) before using it")
    if name not in _reported_unknown:
        _reported_unknown.add(name)
        log.error("unknown feature flag %s evaluated: answering False", name)
    return False


def stage_started_at(name: str) -> datetime | None:
    """Return when flag ``name`` entered its current stage (guards measure from there)."""
    flag = current_snapshot().flags.get(name)
    return flag.stage_started_at if flag else None


def invalidate() -> None:
    """Make the next evaluation in this process re-read the flags."""
    global _next_check
    _next_check = 0.0


def force(name: str, active: bool) -> None:
    """Force ``name`` to ``active`` in this process (see cachemig.testing.override_flag)."""
    _test_overrides[name] = active


def unforce(name: str, previous: bool | Literal["unset"]) -> None:
    """Restore the test override of ``name`` to ``previous``."""
    if previous == "unset":
        _test_overrides.pop(name, None)
    else:
        _test_overrides[name] = bool(previous)


def forced_value_of(name: str) -> bool | Literal["unset"]:
    """Return the active test override of ``name``, or "unset"."""
    return _test_overrides.get(name, "unset")


def current_snapshot() -> Snapshot:
    """Return the snapshot, re-reading the database first when it is stale."""
    if time.monotonic() < _next_check:
        return _snapshot
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _refresh_here()
    return _refresh_from_event_loop()


def _refresh_here() -> Snapshot:
    # One thread reloads; the others keep answering from the previous snapshot.
    if not _lock.acquire(blocking=_snapshot.loaded_at == 0.0):
        return _snapshot
    try:
        if time.monotonic() >= _next_check:
            _install(_load_leaving_no_connection())
        return _snapshot
    finally:
        _lock.release()


def _refresh_from_event_loop() -> Snapshot:
    # The ORM may not run on an event loop thread: reload on a helper thread.
    # The first load, and the one after this process changed a flag, wait for it
    # (one small query); a merely aged snapshot keeps answering meanwhile.
    global _executor, _inflight
    must_wait = _snapshot.loaded_at == 0.0 or _next_check == 0.0
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flags-refresh")
        if _inflight is None or _inflight.done():
            _inflight = _executor.submit(_load_closing)
        pending = _inflight
    if must_wait:
        try:
            return pending.result(timeout=LOAD_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 — a slow database degrades to the last snapshot, never blocks callers
            log.warning("flags: reload did not finish in %s s; answering from the last snapshot", LOAD_TIMEOUT_SECONDS)
    return _snapshot


def _install(snap: Snapshot) -> None:
    global _snapshot, _next_check
    _snapshot = snap
    _next_check = time.monotonic() + conf.refresh_seconds()


def _load_leaving_no_connection() -> Snapshot:
    # Pool threads (sync_to_async(thread_sensitive=False)) evaluate flags too: a
    # connection opened only for this read would outlive the thread's work.
    from django.db import connection

    opened_here = connection.connection is None and not connection.in_atomic_block
    try:
        return _load()
    finally:
        if opened_here:
            connection.close()


def _load_closing() -> Snapshot:
    from django.db import connection

    try:
        snap = _load()
        _install(snap)  # before the waiting caller wakes up
        return snap
    finally:
        connection.close()


def _load() -> Snapshot:
    """Read every flag row; on a database error keep the last snapshot (or the defaults of record)."""
    global _last_load_failed
    from cachemig.models import FeatureFlag

    live_env = conf.live_env_overrides()
    try:
        rows = list(FeatureFlag.objects.values_list("name", "state", "percent", "group_id", "stage_started_at"))
    except Exception as exc:  # noqa: BLE001 — the emergency path (env overrides) must work without a database
        if not _last_load_failed:
            log.warning("flags: cannot read the flags (%s: %s); keeping the last known state", type(exc).__name__, exc)
        _last_load_failed = True
        previous = _snapshot
        return Snapshot(flags=previous.flags, source=previous.source, loaded_at=time.monotonic(), live_env=live_env)
    if _last_load_failed:
        log.warning("flags: database readable again")
    _last_load_failed = False
    flags = {
        name: FlagState(state=state, percent=percent, group_id=group_id or name, stage_started_at=started)
        for name, state, percent, group_id, started in rows
    }
    return Snapshot(flags=flags, source="database", loaded_at=time.monotonic(), live_env=live_env)
