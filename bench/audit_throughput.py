#!/usr/bin/env python3
"""Measure the audit trail: sealing rates, receipt and consistency-proof times on a large trail, verification speed.

Each database gets a throwaway copy (a SQLite file in a temp dir; a PostgreSQL database created and
dropped here), migrated by this script. Sealing includes the pending-row MACs, the head record in the
checkpoint store (one signed tree head per batch) and the Merkle tree. Targets (issues 3 and 15), on
PostgreSQL: >= 10,000/s buffered and >= 2,000/s sync with 50 writers; a receipt and a consistency proof
under 50 ms on a trail of 1,000,000 entries; full verification >= 50,000 entries/s.
Baselines in the same run: sync with one writer for the sealing cases; for verification, the chain-only
walk (hash, link, signature, payload: what verification did before the tree and the tree heads).
Run: .venv/bin/python bench/audit_throughput.py [--entries 10000] [--large 1000000] [--pg postgres://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_LARGE = [0]  # entries added for the proof timings (set from --large)
CASES = (("sync", 1), ("sync", 50), ("buffered", 1), ("buffered", 50))


def _write(writers: int, total: int) -> None:
    """Record ``total`` entries from ``writers`` threads; each thread closes its connection."""
    from django.db import connection

    import audit

    per_writer = total // writers
    barrier = threading.Barrier(writers)

    def run(worker: int) -> None:
        barrier.wait()
        try:
            for n in range(per_writer):
                audit.record(
                    "bench.write", actor=f"w{worker}", target=f"bench:{worker}", data={"n": n, "pad": "x" * 64}
                )
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


async def _case(mode: str, writers: int, total: int) -> dict[str, Any]:
    from django.conf import settings

    from audit.models import AuditEntry
    from audit.writer import get_writer

    settings.AUDIT_DURABILITY = mode
    settings.AUDIT_BUFFER_SIZE = max(20_000, total * 2)
    writer = get_writer()
    before = await asyncio.to_thread(lambda: AuditEntry.objects.count())
    async with asyncio.TaskGroup() as tg:
        worker = tg.create_task(writer.run_worker()) if mode == "buffered" else None
        await asyncio.sleep(0)
        started = time.perf_counter()
        await asyncio.to_thread(_write, writers, total)
        accepted = time.perf_counter() - started
        if worker is not None:
            await writer.drain()  # until every accepted entry is sealed and committed
            worker.cancel()
        sealed = time.perf_counter() - started
    after = await asyncio.to_thread(lambda: AuditEntry.objects.count())
    if after - before != total:
        raise SystemExit(f"{mode}/{writers}: {after - before} entries sealed, expected {total}")
    return {
        "mode": mode,
        "writers": writers,
        "entries": total,
        "accept_per_s": total / accepted,
        "per_s": total / sealed,
    }


def _large_trail(total: int) -> dict[str, Any]:
    """Seal ``total`` more entries in batches of 10,000 through the sealer (no writer threads)."""
    from audit.sealing import entries_seal
    from audit.services import draft_build

    started = time.perf_counter()
    for first in range(0, total, 10_000):
        drafts = [
            draft_build(action="bench.large", actor="bench", target=f"bench:{n}", data={"n": n}, request=None)
            for n in range(first, min(total, first + 10_000))
        ]
        entries_seal(drafts=drafts)
    return {"mode": "large-seal", "writers": 1, "entries": total, "per_s": total / (time.perf_counter() - started)}


def _timings(label: str, size: int, samples: list[float]) -> dict[str, Any]:
    samples.sort()
    return {
        "mode": label,
        "writers": 1,
        "entries": size,
        "median_ms": samples[len(samples) // 2] * 1000,
        "p95_ms": samples[int(len(samples) * 0.95) - 1] * 1000,
        "max_ms": samples[-1] * 1000,
    }


def _proofs(size: int, count: int = 50) -> list[dict[str, Any]]:
    """Time receipts of random entries and consistency proofs from random sizes to the newest tree head."""
    import random

    from audit.proofs import consistency_build, receipt_build

    rng = random.Random(15)
    receipts, proofs = [], []
    for _ in range(count):
        seq = rng.randint(1, size)
        started = time.perf_counter()
        receipt_build(seq=seq)
        receipts.append(time.perf_counter() - started)
        first = rng.randint(1, size - 1)
        started = time.perf_counter()
        consistency_build(first=first)
        proofs.append(time.perf_counter() - started)
    return [_timings("receipt", size, receipts), _timings("consistency", size, proofs)]


def child(total: int, large: int) -> None:
    """Run every case against the DATABASE_URL of this process; print JSON."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    results = [asyncio.run(_case(mode, writers, total)) for mode, writers in CASES]
    from audit.services import head_read
    from audit.verification import chain_verify

    if large:
        results.append(_large_trail(large))
    size, _ = head_read()
    results.extend(_proofs(size))
    chain_only = chain_verify(from_seq=2)  # a partial walk: no tree, no tree heads (the baseline)
    report = chain_verify()
    if not report.ok:
        raise SystemExit(report.summary())
    results.append(
        {
            "mode": "verify",
            "writers": 1,
            "entries": report.checked,
            "per_s": report.checked / report.elapsed_seconds,
            "baseline_per_s": chain_only.checked / chain_only.elapsed_seconds,
        }
    )
    connection.close()
    print("RESULT " + json.dumps({"vendor": connection.vendor, "results": results}))


def _run_child(url: str, total: int, var: Path) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "RESYNC_VAR_DIR": str(var), "LOG_LEVEL": "WARNING"}
    env.pop("AUDIT_KEYRING", None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--entries", str(total), "--large", str(_LARGE[0])],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"bench child failed on {url.split('@')[-1]}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return dict(json.loads(line.removeprefix("RESULT ")))


def _postgres(url: str, total: int, var: Path) -> dict[str, Any] | None:
    import psycopg

    name = f"bench_audit_{os.getpid()}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__}): skipped")
        return None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            return _run_child(url.rsplit("/", 1)[0] + "/" + name, total, var)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries per case (default 10,000)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--large", type=int, default=1_000_000, help="entries of the trail for proof timings")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.entries, args.large)
        return
    _LARGE[0] = args.large
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            runs.append(_run_child(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.entries, Path(tmp) / "var-sqlite"))
        pg = _postgres(args.pg, args.entries, Path(tmp) / "var-pg")
        if pg is not None:
            runs.append(pg)
    _print_rates(runs)
    _print_proofs(runs)


def _print_rates(runs: list[dict[str, Any]]) -> None:
    targets = {("buffered", 50): 10_000, ("sync", 50): 2_000, ("verify", 1): 50_000}
    header = ("database", "mode", "writers", "entries", "entries/s", "accept/s", "ratio", "target")
    widths = (-11, -11, 8, 10, 12, 11, 13, 9)
    print("".join(f"{name:<{-w}}" if w < 0 else f"{name:>{w}}" for name, w in zip(header, widths, strict=True)))
    for run in runs:
        baseline = next(r["per_s"] for r in run["results"] if (r["mode"], r["writers"]) == ("sync", 1))
        for r in run["results"]:
            if "per_s" not in r:
                continue
            target = targets.get((r["mode"], r["writers"]))
            accept = f"{r['accept_per_s']:,.0f}" if "accept_per_s" in r else "-"
            if r["mode"] == "verify":
                ratio = f"{r['per_s'] / r['baseline_per_s']:.2f}x chain"
            else:
                ratio = f"{r['per_s'] / baseline:.1f}x sync-1"
            print(
                f"{run['vendor']:<11}{r['mode']:<11}{r['writers']:>8}{r['entries']:>10}{r['per_s']:>12,.0f}"
                f"{accept:>11}{ratio:>13}{(f'{target:,}' if target and run['vendor'] == 'postgresql' else ''):>9}"
            )
        verify = next(r for r in run["results"] if r["mode"] == "verify")
        print(f"{run['vendor']:<11}chain-only walk (baseline): {verify['baseline_per_s']:,.0f} entries/s")


def _print_proofs(runs: list[dict[str, Any]]) -> None:
    print(f"{'database':<11}{'proof':<13}{'trail':>10}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'target':>9}")
    for run in runs:
        for r in run["results"]:
            if "median_ms" in r:
                print(
                    f"{run['vendor']:<11}{r['mode']:<13}{r['entries']:>10,}{r['median_ms']:>11.1f}{r['p95_ms']:>9.1f}"
                    f"{r['max_ms']:>9.1f}{'< 50':>9}"
                )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    main()
