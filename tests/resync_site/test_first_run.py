"""The first ten minutes: a fresh database, `migrate` and `serve` print no warning, then the first steps."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "SECRET", "LANG", "LC_", "LOG_FORMAT"))
    }
    env.update(RESYNC_VAR_DIR=str(tmp_path / "var"), RESYNC_ADMIN_PASSWORD="first-Run-pw-2718", **extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _complaints(output: str) -> list[str]:
    """Return the log lines at WARNING or above (JSON lines) and any traceback."""
    found = []
    for line in output.splitlines():
        try:
            record = json.loads(line) if line.startswith("{") else None
        except ValueError:
            record = None
        if isinstance(record, dict):
            if record.get("level") in {"WARNING", "ERROR", "CRITICAL"}:
                found.append(line)
        elif "Traceback" in line or '"level": "WARNING"' in line or '"level": "ERROR"' in line:
            found.append(line)
    return found


def test_a_fresh_first_run_is_quiet_until_ready_and_then_shows_the_first_steps(tmp_path: Path) -> None:
    # Ports of its own: another `serve` of the suite may hold the fixed ones (that is a warning, rightly).
    env = _env(tmp_path, TWS_SIMULATOR_PORT=str(_free_port()), ETL_DEMO_SERVER_PORT=str(_free_port()))
    for command in (["migrate", "--no-input"], ["demo_setup"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert _complaints(done.stdout + done.stderr) == [], command

    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(_free_port())],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while "Primeiros passos" not in log.read_text() and serve.poll() is None:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.3)
        finally:
            serve.send_signal(signal.SIGINT)
            serve.wait(timeout=30)
    text = log.read_text()
    before_ready = text[: text.index("serve: ready at")]
    assert _complaints(before_ready) == []
    assert "logs: json format" in before_ready  # stdout is a file here, not a terminal
    tour = text[text.index("Primeiros passos") :]
    assert "/admin/" in tour
    assert "/api/docs" in tour
    assert "joblog" in tour
