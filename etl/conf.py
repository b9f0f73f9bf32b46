"""Settings of the etl app, read in one place with their defaults."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

# The longest date range (days, both ends included) one run of the bundled pipeline accepts; the API
# refuses a longer one before a job exists.
PIPELINE_MAX_DAYS = 31

DEFAULTS: dict[str, Any] = {
    # Seconds a step may run before it is stopped with error "timeout"; per system code, "*" for the rest.
    "ETL_STEP_TIMEOUT_SECONDS": {"*": 3600},
    # Seconds between SIGTERM to a step's process group and SIGKILL.
    "ETL_CANCEL_GRACE_SECONDS": 2.0,
    # Seconds between heartbeats of a running job (the runner also polls cancel requests then).
    "ETL_HEARTBEAT_SECONDS": 1.0,
    # A running job whose heartbeat is older than this is reaped as "worker lost" (a worker on the reaper's
    # own host is known lost at once: its lock is released by the kernel, see etl.jobfiles).
    "ETL_STALE_SECONDS": 10.0,
    # The reaper runs this often (seconds; must divide 60: Huey's periodic tasks fire once a minute), in
    # every web and worker process (etl.reaper) as well as the Huey periodic task.
    "ETL_REAPER_INTERVAL_SECONDS": 5,
    # A pending job with no live task for this long is enqueued again.
    "ETL_PENDING_REQUEUE_SECONDS": 120.0,
    # Niceness added to each step's process tree (0-19): batch work only takes the CPU the web tier and
    # the worker leave on a shared host (the soak's p95 fell from 100-200 ms at 10 to 40-75 ms at 19).
    # 0 runs steps at the worker's own priority (a host saturated by the web tier slows niced steps).
    "ETL_CHILD_NICE": 19,
    # Log lines are inserted every this many lines or seconds, whichever comes first.
    "ETL_LOG_BATCH_LINES": 100,
    "ETL_LOG_BATCH_SECONDS": 0.2,
    # Lines longer than this (bytes) are cut and marked.
    "ETL_MAX_LINE_BYTES": 64 * 1024,
    # Successful runs whose line counts estimate the progress of a run without [PROGRESS] lines.
    "ETL_PROGRESS_HISTORY_RUNS": 5,
    # The bundled demo reports server (started by `serve`): fixed port, then any free one.
    "ETL_DEMO_SERVER_PORT": 31117,
    # Requests allowed per user and window on execute/cancel/credentials.
    "ETL_RATE_LIMIT_REQUESTS": 30,
    "ETL_RATE_LIMIT_WINDOW_SECONDS": 60,
    # /api/stats is computed at most this often per cache (seconds); finishing jobs invalidate it.
    "ETL_STATS_CACHE_SECONDS": 10,
    # The programs a System may run, name -> argv (a System picks a name; the admin cannot type a program).
    # The runner appends "--data-inicial D --data-final D -- <code>". A System without a name runs the
    # bundled pipeline (BUNDLED_COMMAND).
    "ETL_COMMANDS": {},
    # Retention: log lines of jobs finished (success, cancelled) more than this many days ago are purged;
    # failed jobs' lines are kept longer. Purged by the retention task in batches of this many rows.
    "ETL_RETENTION_DAYS": 90,
    "ETL_RETENTION_FAILED_DAYS": 180,
    "ETL_RETENTION_BATCH_SIZE": 2000,
    # Report folders (PUT /api/paths/{kind}, the admin) must lie under one of these absolute folders;
    # None: VAR_DIR/etl only. The worker's unit must be allowed to write there (ops/systemd).
    "ETL_REPORT_ROOTS": None,
}
BUNDLED_COMMAND = (sys.executable, "-m", "etl.pipeline")
COMMAND_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


def get_setting(name: str) -> Any:
    """Return the etl setting ``name`` (from Django settings, else its default)."""
    return getattr(settings, name, DEFAULTS[name])


def step_timeout_seconds(system_code: str) -> float:
    """Return the timeout of a step of ``system_code``."""
    table = get_setting("ETL_STEP_TIMEOUT_SECONDS")
    return float(table.get(system_code, table.get("*", DEFAULTS["ETL_STEP_TIMEOUT_SECONDS"]["*"])))


def commands() -> dict[str, list[str]]:
    """Return the configured step commands, name -> argv."""
    return {str(k): list(v) for k, v in dict(get_setting("ETL_COMMANDS")).items()}


def report_roots() -> list[Path]:
    """Return the folders report folders must lie under (normalised, absolute)."""
    configured = get_setting("ETL_REPORT_ROOTS")
    roots = configured if configured else [Path(settings.VAR_DIR) / "etl"]
    return [Path(os.path.normpath(os.path.abspath(str(root)))) for root in roots]


def command_argv(name: str) -> list[str]:
    """Return the argv of command ``name`` ("" is the bundled pipeline); raise ``LookupError`` if none is configured."""
    if not name:
        return list(BUNDLED_COMMAND)
    found = commands().get(name)
    if found is None:
        raise LookupError(f"command {name!r} is not configured in ETL_COMMANDS")
    return found


def _positive_number(name: str, value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@register("etl")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report etl settings an operator set to unusable values."""
    errors: list[CheckMessage] = []
    for name, default in DEFAULTS.items():
        if name in ("ETL_CHILD_NICE", "ETL_COMMANDS", "ETL_REPORT_ROOTS"):
            continue  # 0 is allowed / not a number: checked below
        value = get_setting(name)
        if isinstance(default, dict):
            ok = isinstance(value, dict) and all(_positive_number(name, v) for v in value.values())
        else:
            ok = _positive_number(name, value)
        if not ok:
            expected = "a mapping of positive numbers" if isinstance(default, dict) else "a positive number"
            errors.append(
                Error(
                    f"{name} must be {expected}, not {value!r}",
                    hint=f"fix {name} in the settings or the environment (default {default!r})",
                    id="etl.E001",
                )
            )
    interval = get_setting("ETL_REAPER_INTERVAL_SECONDS")
    if _positive_number("ETL_REAPER_INTERVAL_SECONDS", interval) and (interval != int(interval) or 60 % interval):
        errors.append(
            Error(
                f"ETL_REAPER_INTERVAL_SECONDS must be a whole number of seconds that divides 60, not {interval!r}",
                hint="use 5, 10, 15, 20, 30 or 60",
                id="etl.E002",
            )
        )
    nice = get_setting("ETL_CHILD_NICE")
    if isinstance(nice, bool) or not isinstance(nice, int) or not 0 <= nice <= 19:
        errors.append(
            Error(
                f"ETL_CHILD_NICE must be a whole number from 0 to 19, not {nice!r}",
                hint="19 (the default) lets the web tier and the worker go first; 0: the worker's own priority",
                id="etl.E003",
            )
        )
    roots = get_setting("ETL_REPORT_ROOTS")
    if roots is not None and (
        not isinstance(roots, list | tuple)
        or not all(isinstance(r, str | Path) and str(r).startswith("/") for r in roots)
    ):
        errors.append(
            Error(
                f"ETL_REPORT_ROOTS must be a list of absolute folders, not {roots!r}",
                hint="e.g. ETL_REPORT_ROOTS=/srv/resync in the environment (comma-separated)",
                id="etl.E005",
            )
        )
    table = get_setting("ETL_COMMANDS")
    bad = (
        [repr(table)]
        if not isinstance(table, dict)
        else [
            repr(name)
            for name, argv in table.items()
            if not (isinstance(name, str) and COMMAND_NAME.fullmatch(name))
            or not isinstance(argv, list | tuple)
            or not argv
            or not all(isinstance(a, str) and a for a in argv)
        ]
    )
    if bad:
        errors.append(
            Error(
                f"ETL_COMMANDS must map names (lower-case slugs) to non-empty argv lists; wrong: {', '.join(bad)}",
                hint='e.g. ETL_COMMANDS = {"maps-legacy": ["/opt/maps/bin/fetch", "-q"]} (JSON in the environment)',
                id="etl.E004",
            )
        )
    return errors
