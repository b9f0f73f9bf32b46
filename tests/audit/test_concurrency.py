"""Many writers at once in sync mode: 10,000 entries, contiguous seq, one verifiable chain."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

import audit
from audit.models import AuditEntry
from audit.verification import chain_verify
from core import keyring

# One xdist worker runs these: each writer thread may hold a database connection while it leads.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("audit-load")]
WRITERS, PER_WRITER = 50, 200
ROOT = Path(__file__).resolve().parents[2]


def _assert_chain_of(total: int) -> None:
    try:
        _check_chain_of(total)
    finally:
        connection.close()  # also called from a sync_to_async thread: leave no session behind


def _check_chain_of(total: int) -> None:
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    report = chain_verify()
    assert report.ok, report.summary()
    assert report.checked == total


def _threads_write() -> None:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        barrier.wait()
        try:
            for n in range(PER_WRITER):
                audit.record("load.write", actor=f"w{worker}", target=f"w:{worker}", data={"n": n})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []


async def _tasks_write() -> None:
    async def write(worker: int) -> None:
        for n in range(PER_WRITER):
            await audit.arecord("load.write", actor=f"t{worker}", target=f"t:{worker}", data={"n": n})

    await asyncio.gather(*(write(w) for w in range(WRITERS)))


def _per_writer_order_kept() -> None:
    # Each writer's own entries appear in the order it recorded them.
    rows = AuditEntry.objects.filter(target="w:7").order_by("seq").values_list("payload", flat=True)
    assert [keyring.decrypt(p) for p in rows] == [f'{{"n": {n}}}' for n in range(PER_WRITER)]


@pytest.mark.slow
def test_fifty_threads_sqlite() -> None:
    _threads_write()
    _assert_chain_of(WRITERS * PER_WRITER)
    _per_writer_order_kept()


@pytest.mark.slow
async def test_fifty_tasks_sqlite() -> None:
    await _tasks_write()
    await sync_to_async(_assert_chain_of)(WRITERS * PER_WRITER)


@pytest.mark.postgres
def test_fifty_threads_postgres() -> None:
    _threads_write()
    _assert_chain_of(WRITERS * PER_WRITER)
    _per_writer_order_kept()


@pytest.mark.postgres
async def test_fifty_tasks_postgres() -> None:
    await _tasks_write()
    await sync_to_async(_assert_chain_of)(WRITERS * PER_WRITER)


@pytest.mark.postgres
def test_two_processes_postgres(settings: Any) -> None:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AUDIT_KEYRING": keyring.dump_keyring(keyring.load_keyring()),
        "RESYNC_VAR_DIR": str(settings.VAR_DIR),
        "AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),  # one store, as on one machine
    }
    script = str(ROOT / "tests" / "audit" / "writer_process.py")
    procs = [
        subprocess.Popen([sys.executable, script, "10", "500", label], env=env, cwd=ROOT, stdout=subprocess.PIPE)
        for label in ("p1", "p2")
    ]
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs

    _assert_chain_of(10_000)
    assert AuditEntry.objects.filter(actor="p1").count() == AuditEntry.objects.filter(actor="p2").count() == 5000
