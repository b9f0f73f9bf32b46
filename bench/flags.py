"""Benchmark the feature flags: cached evaluations per second and cross-process propagation delay.

Runs against a fresh SQLite database in a temporary directory (never your var/).
Targets (issue 4): >= 500,000 evaluations/s cached; a change seen by another process within 5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.mkdtemp(prefix="bench-flags-"))
ENV = {
    **os.environ,
    "RESYNC_ENV": "development",
    "RESYNC_VAR_DIR": str(TMP),
    "DATABASE_URL": f"sqlite:///{TMP / 'resync.sqlite3'}",
    "LOG_LEVEL": "WARNING",
}
ENV.pop("PYTEST_VERSION", None)
os.environ.update({k: ENV[k] for k in ("RESYNC_ENV", "RESYNC_VAR_DIR", "DATABASE_URL", "LOG_LEVEL")})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
sys.path.insert(0, str(ROOT))
MANAGE = [sys.executable, str(ROOT / "manage.py")]
N = 1_000_000
FLAG = "MIGRATION_USE_NEW_CACHE"


def rate(label: str, func: object, n: int = N) -> float:
    """Time ``n`` calls and print calls/s."""
    call = func  # type: ignore[assignment]
    started = time.perf_counter()
    for i in range(n):
        call(i)  # type: ignore[operator]
    per_second = n / (time.perf_counter() - started)
    print(f"  {label:<58} {per_second:>12,.0f} /s  ({1e6 / per_second:.2f} µs)")
    return per_second


def evaluations() -> float:
    """Measure cached is_enabled against the bare hash and an uncached environment read."""
    import mmh3

    from cachemig import flags
    from cachemig.services import flag_set
    from core.context import user_scope

    flag_set(name=FLAG, state="percentage", percent=25, acting_user="bench", reason="bench")
    keys = [f"job-{i}" for i in range(1000)]
    is_enabled = flags.is_enabled
    print("evaluations (one process, snapshot cached):")
    pct = rate("is_enabled(percentage flag, key)", lambda i: is_enabled(FLAG, keys[i % 1000]))
    rate("is_enabled(on flag, key)", lambda i: is_enabled("MIGRATION_ENABLE_METRICS", keys[i % 1000]))
    rate("is_enabled(off flag, key)", lambda i: is_enabled("TWS_UNIFIED_V2_ENABLED", keys[i % 1000]))
    with user_scope("42"):
        rate("is_enabled(percentage flag) keyed on the current user", lambda i: is_enabled(FLAG))
    bare = rate("baseline: bare mmh3 bucketing (no lookup, no override)", lambda i: mmh3.hash(keys[i % 1000]) % 100)
    env = rate("baseline: foundation stub (reads APP_<FLAG> on every call)", lambda i: flags.env_override(FLAG), N // 4)
    print(f"  ratio cached/bare-hash: {pct / bare:.2f}x; cached/foundation-stub: {pct / env:.2f}x")
    return pct


def snapshot_reload_cost() -> None:
    """Measure what each process pays per refresh interval to stay current."""
    from cachemig.flags import evaluation

    samples = []
    for _ in range(200):
        started = time.perf_counter()
        evaluation._load()
        samples.append(time.perf_counter() - started)
    print(f"snapshot reload (per process, once per refresh interval): median {statistics.median(samples) * 1e3:.2f} ms")


def propagation(rounds: int = 6) -> list[float]:
    """Change the flag here, time until a second OS process evaluates the new value."""
    from cachemig.services import flag_set

    flag_set(name=FLAG, state="off", acting_user="bench", reason="bench")
    delays = []
    for r in range(rounds):
        target = "on" if r % 2 == 0 else "off"
        watcher = subprocess.Popen(
            [*MANAGE, "flags", "--watch", FLAG, "--until", target, "--timeout", "30"],
            env=ENV,
            stdout=subprocess.PIPE,
            text=True,
        )
        if watcher.stdout is None:
            raise RuntimeError("the watcher has no stdout")
        watcher.stdout.readline()  # the watcher has loaded the flags and sees the old value
        time.sleep(0.3 + 0.37 * r)  # land at different points of the watcher's refresh cycle
        flag_set(name=FLAG, state=target, acting_user="bench", reason="bench")
        committed = time.time()
        out, _ = watcher.communicate(timeout=60)
        if watcher.returncode != 0:
            print(f"  round {r}: NOT SEEN within 30 s")
            delays.append(float("inf"))
            continue
        delays.append(float(out.split()[-3]) - committed)
    return delays


def rollback_time() -> tuple[float, float, float]:
    """Return (service call, `manage.py rollback`, bare `manage.py shell -c pass`) times for 50 % -> 0 %."""
    from cachemig.services import flag_rollback, flag_set

    flag_set(name=FLAG, state="percentage", percent=50, acting_user="bench", reason="bench")
    started = time.perf_counter()
    flag_rollback(name=FLAG, reason="bench", acting_user="bench")
    in_process = time.perf_counter() - started
    flag_set(name=FLAG, state="percentage", percent=50, acting_user="bench", reason="bench")
    started = time.perf_counter()
    subprocess.run([*MANAGE, "rollback", FLAG, "--reason", "bench"], env=ENV, check=True, capture_output=True)
    command = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([*MANAGE, "shell", "-c", "pass"], env=ENV, check=True, capture_output=True)
    return in_process, command, time.perf_counter() - started


def main() -> None:
    subprocess.run([*MANAGE, "migrate", "--no-input", "-v", "0"], env=ENV, check=True)
    import django

    django.setup()
    from cachemig import conf

    print(f"database: {ENV['DATABASE_URL']}; refresh interval {conf.refresh_seconds():g} s")
    cached = evaluations()
    snapshot_reload_cost()
    delays = propagation()
    finite = [d for d in delays if d != float("inf")]
    print(
        "propagation to a second process: "
        + ", ".join(f"{d:.2f}" for d in delays)
        + f" s; median {statistics.median(finite):.2f} s, max {max(delays):.2f} s"
    )
    service, command, startup = rollback_time()
    print(
        f"rollback 50% -> 0%: service {service * 1e3:.1f} ms; `manage.py rollback` wall time {command:.2f} s "
        f"(baseline: a bare `manage.py shell -c pass` takes {startup:.2f} s: Django start-up, not the rollback)"
    )
    ok_rate, ok_delay = cached >= 500_000, max(delays) <= 5.0
    print(
        f"targets: >= 500,000 eval/s {'MET' if ok_rate else 'MISSED'}; "
        f"<= 5 s propagation {'MET' if ok_delay else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
