"""The real `serve` process: buffered entries are sealed by the drain before the database closes."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "AUDIT_"))}
    env.update(
        RESYNC_VAR_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
        AUDIT_DURABILITY="buffered",
        AUDIT_FLUSH_INTERVAL_SECONDS="3600",  # nothing is flushed before the drain
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _failed_logins(port: int, count: int) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"http://127.0.0.1:{port}/admin/login/"
    opener.open(url, timeout=10)  # sets the CSRF cookie
    token = next(c.value for c in jar if c.name == "csrftoken")
    for n in range(count):
        form = urllib.parse.urlencode(
            {"username": f"intruder{n}", "password": "wrong-password-xyz", "csrfmiddlewaretoken": token}
        )
        request = urllib.request.Request(url, data=form.encode(), headers={"Referer": url})
        opener.open(request, timeout=10).read()


@pytest.mark.slow
def test_serve_drains_buffered_entries_before_closing_the_database(tmp_path: Path) -> None:
    env = _env(tmp_path)
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, capture_output=True
    )
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--no-embedded", "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stderr.readline() if proc.stderr else ""
        assert "Resync is ready" in banner, banner
        _failed_logins(port, 5)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "wrong-password-xyz" not in out
    messages = [str(json.loads(line)["msg"]) for line in out.splitlines() if line.strip()]
    drained = next(i for i, m in enumerate(messages) if m.startswith("audit: writer drained"))
    closed = next(i for i, m in enumerate(messages) if m.startswith("shutdown: database connections closed"))
    assert drained < closed

    verified = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain OK: 5 entries verified (seq 1..5)" in verified.stdout
    with closing(sqlite3.connect(tmp_path / "resync.sqlite3")) as db:
        rows = db.execute("SELECT seq, target FROM audit_auditentry ORDER BY seq").fetchall()
    assert [seq for seq, _ in rows] == list(range(1, 7))  # 5 failed sign-ins + the verification
    assert rows[-1][1] == "audit:chain"
    # No user is called intruderN: what was typed is kept only as a keyed digest, one per name.
    assert all(target.startswith("unknown-username:") for _, target in rows[:5])
    assert len({target for _, target in rows[:5]}) == 5
    assert "intruder" not in str(rows)
