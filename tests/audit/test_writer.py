"""Buffered mode: failures are retried in order, a full buffer pushes back, shutdown drains everything."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection

import audit
from audit import metrics
from audit.exceptions import AuditUnavailable
from audit.models import AuditEntry
from audit.verification import chain_verify
from core import keyring

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buffered(settings: Any) -> Any:
    settings.AUDIT_DURABILITY = "buffered"
    settings.AUDIT_FLUSH_INTERVAL_SECONDS = 3600  # only a wake-up or the drain flushes
    settings.AUDIT_FLUSH_RETRY_MAX_SECONDS = 0.05
    return settings


def _sealed_numbers() -> list[tuple[int | None, int]]:
    try:
        rows = AuditEntry.objects.order_by("seq").values_list("seq", "payload")
        return [(seq, int(keyring.decrypt(p).split(": ")[1].rstrip("}"))) for seq, p in rows]
    finally:
        connection.close()


def _rename_table(old: str, new: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")
    finally:
        connection.close()


async def _record(count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        await audit.arecord("test.buffered", actor="w", target="t:1", data={"n": n})


async def test_database_failure_during_flush_keeps_order_and_seals_exactly_once(
    buffered: Any, fresh_writer: Any
) -> None:
    failures_before = metrics.flush_failures_total._value.get()
    async with asyncio.TaskGroup() as tg:
        worker = tg.create_task(fresh_writer.run_worker())
        await asyncio.sleep(0)
        await _record(20)
        await sync_to_async(_rename_table)("audit_auditentry", "audit_auditentry_away")  # the database "fails"
        with pytest.raises(DatabaseError):
            await asyncio.to_thread(fresh_writer.flush_from_worker)
        await _record(10, start=20)  # accepted while the database is down
        assert fresh_writer.depth == 30
        fresh_writer._wake_worker()
        await asyncio.sleep(0.2)  # the worker retries against the broken table, keeps failing
        assert fresh_writer.depth == 30
        await sync_to_async(_rename_table)("audit_auditentry_away", "audit_auditentry")
        await fresh_writer.drain()
        worker.cancel()

    assert metrics.flush_failures_total._value.get() >= failures_before + 2
    assert await sync_to_async(_sealed_numbers)() == [(n + 1, n) for n in range(30)]
    assert (await sync_to_async(chain_verify)()).ok


async def test_full_buffer_with_stalled_flusher_raises_audit_unavailable_and_drops_nothing(
    buffered: Any, fresh_writer: Any
) -> None:
    buffered.AUDIT_BUFFER_SIZE = 10
    buffered.AUDIT_BACKPRESSURE_SECONDS = 0.2
    async with asyncio.TaskGroup() as tg:
        worker = tg.create_task(fresh_writer.run_worker())
        await asyncio.sleep(0)
        fresh_writer._flush_lock.acquire()  # the flusher is stuck in its I/O
        try:
            for n in range(10):
                await audit.arecord("test.buffered", actor="w", target="t:1", data={"n": n})
            with pytest.raises(AuditUnavailable, match="buffer full"):
                await audit.arecord("test.buffered", actor="w", target="t:1", data={"n": 10})
            assert fresh_writer.depth == 10
        finally:
            fresh_writer._flush_lock.release()
        await fresh_writer.drain()
        worker.cancel()

    assert await sync_to_async(_sealed_numbers)() == [(n + 1, n) for n in range(10)]


def test_sync_record_raises_when_buffer_stays_full(settings: Any, fresh_writer: Any) -> None:
    settings.AUDIT_BUFFER_SIZE = 1
    settings.AUDIT_BACKPRESSURE_SECONDS = 0.1
    with fresh_writer._flush_lock:  # a stalled flush holds the lead
        fresh_writer._accept(fresh_writer_item())
        with pytest.raises(AuditUnavailable, match="NOT recorded"):
            audit.record("test.sync", actor="w", target="t:2", data={})


def fresh_writer_item() -> Any:
    from audit.services import draft_build
    from audit.writer import Item

    return Item(draft_build(action="test.filler", actor=None, target="t:0", data={}, request=None))


async def test_shutdown_drains_five_thousand_buffered_entries(buffered: Any, fresh_writer: Any) -> None:
    buffered.AUDIT_BUFFER_SIZE = 20_000
    async with asyncio.TaskGroup() as tg:
        worker = tg.create_task(fresh_writer.run_worker())
        await asyncio.sleep(0)
        await _record(5000)
        assert fresh_writer.depth == 5000
        assert await sync_to_async(_sealed_numbers)() == []

        from audit.workers import drain

        await drain()
        worker.cancel()

    assert fresh_writer.depth == 0
    assert await sync_to_async(_sealed_numbers)() == [(n + 1, n) for n in range(5000)]
    assert (await sync_to_async(chain_verify)()).checked == 5000


async def test_buffered_entry_recorded_in_a_transaction_is_sealed_soon_after_commit(
    buffered: Any, fresh_writer: Any
) -> None:
    from django.db import transaction

    def change() -> None:
        try:
            with transaction.atomic():
                audit.record("flag.update", actor="admin", target="flag:X", data={"n": 0})
        finally:
            connection.close()

    async with asyncio.TaskGroup() as tg:
        worker = tg.create_task(fresh_writer.run_worker())
        await asyncio.sleep(0)
        await sync_to_async(change, thread_sensitive=False)()
        for _ in range(100):  # woken by the commit, not by the hour-long interval
            if await sync_to_async(_sealed_numbers)() == [(1, 0)]:
                break
            await asyncio.sleep(0.02)
        worker.cancel()

    assert await sync_to_async(_sealed_numbers)() == [(1, 0)]


def test_sync_writer_is_told_when_the_database_fails(fresh_writer: Any) -> None:
    _rename_table("audit_auditentry", "audit_auditentry_away")
    try:
        with pytest.raises(AuditUnavailable, match="not committed"):
            audit.record("job.start", actor="op", target="job:1", data={})
    finally:
        _rename_table("audit_auditentry_away", "audit_auditentry")
    assert fresh_writer.depth == 0  # nothing half-accepted stays behind

    audit.record("job.start", actor="op", target="job:2", data={"n": 7})
    assert _sealed_numbers() == [(1, 7)]


# The same guarantees on PostgreSQL (the sealer's SQL path differs: COPY, FOR UPDATE).
@pytest.mark.postgres
async def test_flush_failure_keeps_order_postgres(buffered: Any, fresh_writer: Any) -> None:
    await test_database_failure_during_flush_keeps_order_and_seals_exactly_once(buffered, fresh_writer)


@pytest.mark.postgres
async def test_full_buffer_drops_nothing_postgres(buffered: Any, fresh_writer: Any) -> None:
    await test_full_buffer_with_stalled_flusher_raises_audit_unavailable_and_drops_nothing(buffered, fresh_writer)


@pytest.mark.postgres
async def test_shutdown_drains_five_thousand_postgres(buffered: Any, fresh_writer: Any) -> None:
    await test_shutdown_drains_five_thousand_buffered_entries(buffered, fresh_writer)
