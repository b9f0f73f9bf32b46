"""The periodic verification worker: one process per interval verifies, records the result, archives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

import audit
from audit.models import AuditEntry
from audit.verification import last_verification
from audit.workers import _verification_lease, verify_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _closing(fn: Any) -> Any:
    def call() -> Any:
        try:
            return fn()
        finally:
            connection.close()

    return call


async def test_worker_verifies_each_interval_and_records_the_result(settings: Any) -> None:
    settings.AUDIT_VERIFY_INTERVAL_SECONDS = 0.2
    await audit.arecord("test.entry", actor="a", target="t:1", data={})

    async def short_life() -> None:
        async with asyncio.timeout(1.0), asyncio.TaskGroup() as tg:
            tg.create_task(verify_worker())

    with pytest.raises(TimeoutError):
        await short_life()

    result = last_verification()
    assert result is not None
    assert result["ok"] is True
    actions = await sync_to_async(_closing(lambda: list(AuditEntry.objects.values_list("action", flat=True))))()
    assert "audit.chain_verified" in actions


def test_only_one_process_takes_the_lease_per_interval(settings: Any) -> None:
    settings.AUDIT_VERIFY_INTERVAL_SECONDS = 3600
    assert _verification_lease() is True
    assert _verification_lease() is False  # a second process (or machine) in the same interval skips
