"""The process as an operator runs it: start-up failures, `serve`, logs, graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_KEY = "k" * 20 + "production-secret-key-for-tests-0123456789"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "SECRET"))}
    env.update(extra)
    return env


def _manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_production_without_secret_key_exits_with_one_line_naming_it(tmp_path: Path) -> None:
    result = _manage("serve", env=_env(RESYNC_ENV="production", RESYNC_VAR_DIR=str(tmp_path)), timeout=20)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]


def test_production_with_database_unreachable_exits_with_one_line(tmp_path: Path) -> None:
    env = _env(
        RESYNC_ENV="production",
        RESYNC_VAR_DIR=str(tmp_path),
        SECRET_KEY=PRODUCTION_KEY,
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="resync.example.com",
    )
    result = _manage("serve", env=env, timeout=20)
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if line]
    assert len(lines) == 1, result.stderr
    assert "database unreachable" in lines[0]


def test_production_profile_passes_check_deploy(tmp_path: Path) -> None:
    env = _env(
        RESYNC_ENV="production",
        RESYNC_VAR_DIR=str(tmp_path),
        SECRET_KEY=PRODUCTION_KEY,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="resync.example.com",
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    env = _env(RESYNC_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    migrated = _manage("migrate", "--no-input", "-v", "0", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--no-embedded"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = proc.stderr.readline() if proc.stderr else ""
    assert "Resync is ready" in banner, banner
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_serve_logs_json_carries_request_ids_and_shuts_down_in_order(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = served
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/me/language",
        data=json.dumps({"language": "xx", "password": "hunter2-in-body"}).encode(),
        method="PUT",
        headers={"X-Request-ID": "trace-from-client-1", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 — loopback only
    assert refused.value.code == 401
    assert refused.value.headers["X-Request-ID"] == "trace-from-client-1"
    missing = urllib.request.Request(f"http://127.0.0.1:{port}/no-such-page", headers={"X-Request-ID": "trace-2"})
    with pytest.raises(urllib.error.HTTPError) as not_found:
        urllib.request.urlopen(missing, timeout=10)  # noqa: S310
    assert not_found.value.code == 404
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    records = [json.loads(line) for line in out.splitlines() if line.strip()]  # every line is JSON
    assert "hunter2-in-body" not in out
    caused = [r for r in records if r.get("correlation_id") == "trace-2"]
    assert any("Not Found: /no-such-page" in str(r["msg"]) for r in caused), "Django's own request log carries the id"
    # Process lines carry no request's id (the periodic tasks the consumer runs log under ids of their own).
    process_lines = [r for r in records if str(r["msg"]).startswith(("serve:", "shutdown:", "phase "))]
    assert process_lines, "serve logged no start-up or shutdown line"
    assert all(r.get("correlation_id") is None for r in process_lines), process_lines
    # The worker threads run the periodic tasks at once (plan monitor, reaper, guard sweep): each task logs
    # under an id of its own. Any other line has no id or the id of the request it came from.
    task_loggers = ("tws.", "resync.etl", "resync.flags", "resync.cachemig")
    stray = [
        (r["logger"], r.get("correlation_id"))
        for r in records
        if r.get("correlation_id") not in (None, "trace-from-client-1", "trace-2")
        and not r["logger"].startswith(task_loggers)
    ]
    assert not stray, stray
    messages = [str(r["msg"]) for r in records]
    order = [
        "serve: SIGTERM received, shutting down",
        "shutdown: stop taking work",
        "shutdown: waiting for running tasks",
        "shutdown: database connections closed",
        "serve: stopped",
    ]
    positions = [next(i for i, m in enumerate(messages) if m.startswith(step)) for step in order]
    assert positions == sorted(positions)
