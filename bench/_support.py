"""Helpers shared by the bench scripts: a free loopback port and the TWS simulator in its own process."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIM_USER, SIM_PASSWORD = "bench", "bench-pass"


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def tws_simulator(*, jobs: int, seed: int = 5) -> Iterator[str]:
    """Run `manage.py tws_simulator` (frozen clock) in a separate process; yield its base URL."""
    port = free_port()
    args = [
        "manage.py",
        "tws_simulator",
        "--port",
        str(port),
        "--jobs",
        str(jobs),
        "--seed",
        str(seed),
        "--speed",
        "0",
        "--username",
        SIM_USER,
        "--password",
        SIM_PASSWORD,
    ]
    sim = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        print(sim.stdout.readline().strip() if sim.stdout else "simulator started")
        yield f"http://127.0.0.1:{port}"
    finally:
        sim.terminate()
        sim.wait(timeout=10)
