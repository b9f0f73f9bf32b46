"""Websocket fan-out: one job printing N lines/s to M live clients, end to end through a real `serve`.

Path measured: child print -> runner -> database batch -> channel layer -> consumer -> websocket -> client.
Prints delivered lines/s, p50/p95/max latency (child's print time to client receive), lost and duplicated
lines summed over the clients, for batched frames (what the live page uses) and seed-format frames. The
per-batch publish that etl/events.py adopted was measured here against the earlier per-line one
(docs/performance.md).

    python bench/ws_fanout.py                 # 5 s per phase, 5,000 lines/s, 50 clients
    python bench/ws_fanout.py --seconds 30    # the issue's full run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _support import free_port  # noqa: E402  (bench/ on the path, for scripts run directly)

LATENCY_SAMPLE = 10  # every 10th line of a frame (always its first) gets a latency
CHILD = textwrap.dedent(
    """
    import sys, time
    rate, seconds, delay = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    time.sleep(delay)  # the clients connect meanwhile
    total, n, start = int(rate * seconds), 0, time.perf_counter()
    out = sys.stdout
    while n < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        while n < due:
            out.write(f"[INFO] [BENCH] t={time.time():.6f} n={n}\\n")
            n += 1
        out.flush()
        time.sleep(0.001)
    """
)
SETUP = textwrap.dedent(
    """
    import sys
    from django.contrib.auth import get_user_model
    from etl import services
    from resync_site.services import token_create
    system = services.system_save(code="bench", name="BENCH", active=True, base_url="http://127.0.0.1:9",
                                  command_name="bench", acting_user=None)
    services.credential_save(system_id=system.pk, url="http://127.0.0.1:9", username="bench",
                             password="bench-password", acting_user=None)
    _, raw = token_create(user=get_user_model().objects.get(username="admin"), name="bench", acting_user=None)
    print("TOKEN=" + raw)
    """
)


@dataclass
class Client:
    """What one websocket client saw."""

    seqs: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    frames: int = 0
    done: bool = False


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _prepare(var_dir: Path, rate: float, seconds: float, delay: float) -> tuple[dict[str, str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "DJANGO_"))}
    env.update(RESYNC_VAR_DIR=str(var_dir), RESYNC_ADMIN_PASSWORD="bench-admin-pw-1")
    _manage(env, "migrate", "--no-input", "-v", "0")
    _manage(env, "demo_setup")
    child = CHILD.replace("float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])", f"{rate}, {seconds}, {delay}")
    env["ETL_COMMANDS"] = json.dumps({"bench": [sys.executable, "-c", child]})  # a System only names its command
    out = _manage(env, "shell", "-c", f"CHILD = {child!r}\n{SETUP}")
    token = next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))
    return env, token


def _lines_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    if message["type"] == "log":
        return [message["payload"]]
    if message["type"] == "log_batch":
        return list(message["payload"]["lines"])
    return []


async def _client(session: aiohttp.ClientSession, url: str, origin: str, seen: Client, ready: asyncio.Event) -> None:
    async with session.ws_connect(url, headers={"Origin": origin}, max_msg_size=0, heartbeat=None) as ws:
        ready.set()
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            now = time.time()
            message = json.loads(frame.data)
            seen.frames += 1
            lines = _lines_of(message)
            seen.seqs.extend(line["seq"] for line in lines)
            for line in lines[::LATENCY_SAMPLE]:  # a sample keeps the clients' own CPU out of the figure
                text = line["mensagem"]
                if text.startswith("t="):
                    seen.latencies.append(now - float(text[2:].split(" ", 1)[0]))
            if message["type"] == "job_complete":
                seen.done = True
                return


async def _bounded(follow: Any, limit_s: float) -> None:
    # A client still waiting at the limit keeps what it got; the rest counts as lost.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(follow, limit_s)


async def _finished_job(
    session: aiohttp.ClientSession, base: str, headers: dict[str, str], job_id: int
) -> dict[str, Any]:
    """Return the job once finished, cancelling it when the clients gave up first."""
    async with session.post(f"{base}/api/cancel/{job_id}", headers=headers) as r:
        await r.read()  # 409 when it already finished: fine
    for _ in range(600):
        async with session.get(f"{base}/api/jobs/{job_id}", headers=headers) as r:
            job: dict[str, Any] = await r.json()
        if job["status"] in ("success", "error", "cancelled", "SUCCESS", "ERROR", "CANCELLED"):
            return job
        await asyncio.sleep(0.5)
    raise SystemExit(f"job {job_id} did not finish")


async def _phase(base: str, token: str, clients: int, batch: bool, limit_s: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/execute/bench", headers=headers, json={"data_inicial": "2025-01-15"}) as r:
            body = await r.json()
            if r.status != 202:
                raise SystemExit(f"execute failed: {r.status} {body}")
        job_id = int(body["id"])
        ws_url = base.replace("http", "ws") + f"/ws/jobs/{job_id}?token={token}" + ("&batch=1" if batch else "")
        seen = [Client() for _ in range(clients)]
        readies = [asyncio.Event() for _ in range(clients)]
        started = time.perf_counter()
        async with asyncio.TaskGroup() as tg:
            for one, ready in zip(seen, readies, strict=True):
                tg.create_task(_bounded(_client(session, ws_url, base, one, ready), limit_s))
            for ready in readies:
                await ready.wait()
            connected_s = time.perf_counter() - started
        elapsed = time.perf_counter() - started
        job = await _finished_job(session, base, headers, job_id)
    expected = sum(int(step["linhas"]) for step in job["steps"])  # what the database holds
    latencies = sorted(x for c in seen for x in c.latencies)
    delivered = sum(len(c.seqs) for c in seen)
    # Lost: missing at a client that saw job_complete. Late: still on the way when the limit hit.
    lost = sum(len(set(range(1, expected + 1)) - set(c.seqs)) for c in seen if c.done)
    late = sum(len(set(range(1, expected + 1)) - set(c.seqs)) for c in seen if not c.done)
    duplicated = sum(len(c.seqs) - len(set(c.seqs)) for c in seen)
    return {
        "job_id": job_id,
        "job_status": f"{job['status']} {job.get('error_summary', '')[:100]}".strip(),
        "connect_s": connected_s,
        "lines_per_job": expected,
        "delivered_lines_per_s": delivered / elapsed if elapsed else 0.0,
        "frames": sum(c.frames for c in seen),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "max_ms": 1000 * latencies[-1] if latencies else float("nan"),
        "lost": lost,
        "late": late,
        "duplicated": duplicated,
        "completed_clients": sum(c.done for c in seen),
    }


PHASES = (
    ("log_batch frames", True),  # what the live page negotiates
    ("seed log frames", False),  # one frame per line: the React app
)


async def _serve(env: dict[str, str], log: Any) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "manage.py",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        cwd=str(ROOT),
        env={**env, "DJANGO_SETTINGS_MODULE": "resync_site.settings", "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/health") as r:
                    if r.status == 200:
                        return proc, base
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("serve did not start")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(proc.wait(), 15)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)


async def _run(args: argparse.Namespace, env: dict[str, str], token: str, log: Any) -> list[tuple[str, dict[str, Any]]]:
    limit_s = args.seconds * 4 + 45
    results = []
    for name, batch_frames in PHASES:
        if name not in args.phases:
            continue
        proc, base = await _serve(env, log)
        try:
            results.append((name, await _phase(base, token, args.clients, batch_frames, limit_s)))
        finally:
            await _stop(proc)
    return results


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds the job prints (issue: 30)")
    parser.add_argument("--rate", type=float, default=5000.0, help="lines per second printed by the child")
    parser.add_argument("--clients", type=int, default=50, help="websocket clients following the job")
    parser.add_argument("--phases", nargs="*", default=[p[0] for p in PHASES], help="phases to run, by name")
    parser.add_argument("--serve-log", default="", help="keep the servers' output in this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ws-fanout-") as tmp:
        env, token = _prepare(Path(tmp), args.rate, args.seconds, delay=3.0)
        log_path = Path(args.serve_log) if args.serve_log else Path(tmp) / "serve.log"
        with log_path.open("ab") as log:
            results = asyncio.run(_run(args, env, token, log))
    print(f"ws_fanout: {args.rate:.0f} lines/s for {args.seconds:.0f} s to {args.clients} clients (serve, SQLite)")
    for name, r in results:
        print(
            f"  {name:40s} lines/job={r['lines_per_job']} delivered={r['delivered_lines_per_s']:.0f} lines/s "
            f"frames={r['frames']} p50={r['p50_ms']:.0f} ms p95={r['p95_ms']:.0f} ms max={r['max_ms']:.0f} ms "
            f"lost={r['lost']} duplicated={r['duplicated']} completed={r['completed_clients']}/{args.clients} "
            f"late={r['late']} all-connected-after={r['connect_s']:.1f} s job={r['job_status']}"
        )


if __name__ == "__main__":
    main()
