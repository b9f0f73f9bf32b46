"""A drain that cannot reach the database keeps the entries on disk; the next start seals them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

import audit
from audit import conf
from audit.models import AuditEntry
from audit.verification import chain_verify
from audit.workers import start

pytestmark = pytest.mark.django_db(transaction=True)


def _rename(old: str, new: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")
    finally:
        connection.close()


async def test_spilled_entries_are_sealed_at_next_start(settings: Any, fresh_writer: Any) -> None:
    settings.AUDIT_DURABILITY = "buffered"
    settings.AUDIT_FLUSH_INTERVAL_SECONDS = 3600
    settings.AUDIT_DRAIN_TIMEOUT_SECONDS = 0.2
    async with asyncio.TaskGroup() as tg:
        worker = tg.create_task(fresh_writer.run_worker())
        await asyncio.sleep(0)
        for n in range(7):
            await audit.arecord("test.spill", actor="w", target=f"t:{n}", data={"n": n})
        await sync_to_async(_rename)("audit_auditentry", "audit_auditentry_away")
        assert await fresh_writer.drain() == 7
        worker.cancel()
    await sync_to_async(_rename)("audit_auditentry_away", "audit_auditentry")
    (spilled,) = list(conf.spill_dir().glob("spill-*.jsonl"))
    assert "test.spill" in spilled.read_text()

    async def short_life() -> None:  # the start-up repair is what matters here
        async with asyncio.timeout(0.5), asyncio.TaskGroup() as tg:
            await start(tg)
            await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        await short_life()

    assert not spilled.exists()

    def sealed() -> list[tuple[int | None, str]]:
        try:
            assert chain_verify().ok
            return list(AuditEntry.objects.order_by("seq").values_list("seq", "target"))
        finally:
            connection.close()

    assert await sync_to_async(sealed)() == [(n + 1, f"t:{n}") for n in range(7)]
