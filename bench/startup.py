#!/usr/bin/env python3
"""Measure `serve`: seconds to a 200 from /health, idle resident memory, and SIGTERM-to-exit time.

Targets (issue 2): ready in under 5 s, idle under 250 MB, shutdown under 5 s.
Run: .venv/bin/python bench/startup.py [--runs 3] [--embedded]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _support import free_port  # noqa: E402  (bench/ on the path, for scripts run directly)


def wait_healthy(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 — loopback
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.02)
    return False


def one_run(env: dict[str, str], embedded: bool) -> tuple[float, float, float]:
    port = free_port()
    args = [sys.executable, "manage.py", "serve", "--port", str(port)]
    if not embedded:
        args.append("--no-embedded")
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_healthy(f"http://127.0.0.1:{port}/health", started + 30):
            raise SystemExit("serve did not answer /health within 30 s")
        ready = time.monotonic() - started
        time.sleep(3)  # let it settle idle
        rss = psutil.Process(proc.pid).memory_info().rss / 1024 / 1024
        stop = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        return ready, rss, time.monotonic() - stop
    finally:
        if proc.poll() is None:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--embedded", action="store_true", help="also start the embedded simulators")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "RESYNC_VAR_DIR": var}
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
        runs = [one_run(env, options.embedded) for _ in range(options.runs)]
    ready, rss, stop = zip(*runs, strict=True)
    print(f"serve start-up ({options.runs} runs, embedded simulators: {options.embedded})")
    print(f"{'metric':32} {'median':>10} {'max':>10} {'target':>10}")
    print(f"{'process start -> /health 200 (s)':32} {statistics.median(ready):10.2f} {max(ready):10.2f} {'< 5':>10}")
    print(f"{'idle resident memory (MB)':32} {statistics.median(rss):10.1f} {max(rss):10.1f} {'< 250':>10}")
    print(f"{'SIGTERM -> exit (s)':32} {statistics.median(stop):10.2f} {max(stop):10.2f} {'< 5':>10}")


if __name__ == "__main__":
    main()
