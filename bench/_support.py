"""Helpers shared by the bench scripts: a free loopback port, the TWS simulator in its own process, and the
web tier as in production (N `serve --no-worker --no-embedded` processes behind nginx)."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SIM_USER, SIM_PASSWORD = "bench", "bench-pass"


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    """Return the ``pct`` percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the PostgreSQL server at ``server_url``; return its URL."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"


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


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {log_dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    # When asked for: when each request ended, what it was, and how long nginx and the upstream took.
    log_format timing
        '$msec $request_method $status $request_time $upstream_response_time $uri "$http_x_bench_label"';
    {access_log}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream resync_web {{
        least_conn;
{servers}
        keepalive 64;
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://resync_web;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;  # with the port: Django's origin check compares it
            proxy_set_header X-Request-ID $request_id;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def wait_http_ok(url: str, *, timeout: float = 40.0, what: str = "server") -> None:
    """Poll ``url`` until it answers 200, or exit naming ``what`` did not come up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not answer 200 on {url} within {timeout:.0f} s")


@dataclass(frozen=True)
class AccessRecord:
    """One request as nginx saw it (a line of the ``timing`` access log)."""

    ended: float  # epoch seconds
    method: str
    status: int
    total_ms: float  # nginx's $request_time: first byte read to last byte sent
    upstream_ms: float | None  # the web process's share ($upstream_response_time); None if never proxied
    uri: str
    label: str  # the client's ``X-Bench-Label`` header ("" when it sent none): which endpoint it meant


LABEL_HEADER = "X-Bench-Label"


_TIMING = re.compile(
    r"^(?P<ended>[\d.]+) (?P<method>\S+) (?P<status>\d+) (?P<total>[\d.]+) "
    r'(?P<upstream>.*?) (?P<uri>\S+) "(?P<label>[^"]*)"$'
)


def read_access_log(path: str | Path) -> list[AccessRecord]:
    """Parse the ``timing`` access log that :func:`web_stack` writes; unreadable lines are skipped."""
    records = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        match = _TIMING.match(line)
        if match is None:
            continue
        # Several upstreams tried ("0.002, 0.010"): the last one answered. None ("-"): never proxied.
        upstream = match["upstream"].rsplit(",", 1)[-1].strip()
        records.append(
            AccessRecord(
                ended=float(match["ended"]),
                method=match["method"],
                status=int(match["status"]),
                total_ms=float(match["total"]) * 1000,
                upstream_ms=float(upstream) * 1000 if re.fullmatch(r"[\d.]+", upstream) else None,
                uri=match["uri"],
                label="" if match["label"] == "-" else match["label"],
            )
        )
    return records


@contextmanager
def web_stack(
    *, env: dict[str, str], processes: int = 2, log_dir: str | None = None, access_log: str | None = None
) -> Iterator[tuple[str, list[int]]]:
    """Start ``processes`` × `manage.py serve --no-worker --no-embedded` and, for more than one, nginx in front.

    Yields the base URL clients use (nginx's, or the single process's) and the web pids. This is the
    production shape of DESIGN.md §3 (web processes × N behind a proxy; ops/nginx/resync.conf); jobs are
    left to the caller's `manage.py worker`, as in production. With ``access_log`` (and nginx), nginx
    writes one ``timing`` line per request there (see :func:`read_access_log`): the server side's own
    view of each request, without the load generator's queueing.
    """
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if processes > 1 and not Path(nginx).exists():
        raise SystemExit("nginx is needed for more than one web process: apt-get install nginx-light")
    tmp = tempfile.mkdtemp(prefix="resync-web-")
    ports = [free_port() for _ in range(processes)]
    started: list[subprocess.Popen[bytes]] = []
    logs = contextlib.ExitStack()
    try:
        for number, port in enumerate(ports):
            log = logs.enter_context((Path(log_dir or tmp) / f"web-{number}.log").open("wb"))
            started.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "serve", "--no-worker", "--no-embedded", "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for port in ports:
            wait_http_ok(f"http://127.0.0.1:{port}/health", what=f"web process on port {port}")
        if processes == 1:
            yield f"http://127.0.0.1:{ports[0]}", [p.pid for p in started]
            return
        port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)  # as ops/nginx
        conf = Path(tmp) / "nginx.conf"
        log_line = f"access_log {access_log} timing buffer=256k flush=2s;" if access_log else "access_log off;"
        conf.write_text(
            NGINX_CONF.format(tmp=tmp, log_dir=log_dir or tmp, servers=servers, port=port, access_log=log_line)
        )
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", tmp], stderr=subprocess.STDOUT)
        started.append(proxy)
        wait_http_ok(f"http://127.0.0.1:{port}/health", what="nginx in front of the web processes")
        yield f"http://127.0.0.1:{port}", [p.pid for p in started[:-1]]
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        logs.close()
        shutil.rmtree(tmp, ignore_errors=True)
