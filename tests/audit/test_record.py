"""record() inside and outside transactions: the entry lives and dies with the change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

import audit
from audit.models import AuditEntry
from audit.testing import recorded_entries
from audit.verification import chain_verify
from core.context import correlation_scope

pytestmark = pytest.mark.django_db(transaction=True)


def test_committed_change_has_one_sealed_entry_with_encrypted_payload(admin_user: Any) -> None:
    with correlation_scope("cid-1"), transaction.atomic():
        audit.record("flag.update", actor=admin_user, target="flag:X", data={"enabled": True})

    row = AuditEntry.objects.get()
    assert row.seq == 1
    assert row.hash
    assert row.signature
    assert row.sig_key_id == "s1"
    assert row.key_id == "e1"
    assert "enabled" not in row.payload
    assert recorded_entries() == [
        {
            "seq": 1,
            "actor": "boss",
            "action": "flag.update",
            "target": "flag:X",
            "correlation_id": "cid-1",
            "data": {"enabled": True},
        }
    ]


def test_rolled_back_change_leaves_no_entry() -> None:
    def failing_change() -> None:
        with transaction.atomic():
            audit.record("credential.update", actor="alice", target="credential:1", data={})
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()

    audit.record("credential.update", actor="alice", target="credential:2", data={})

    assert [(e["seq"], e["target"]) for e in recorded_entries()] == [(1, "credential:2")]
    assert chain_verify().ok


def test_savepoint_rollback_drops_only_its_entry() -> None:
    with transaction.atomic():
        audit.record("a.one", actor=None, target="t:1")
        try:
            with transaction.atomic():
                audit.record("a.two", actor=None, target="t:2")
                raise ValueError
        except ValueError:
            pass
        audit.record("a.three", actor=None, target="t:3")

    assert [(e["seq"], e["action"], e["actor"]) for e in recorded_entries()] == [
        (1, "a.one", "system"),
        (2, "a.three", "system"),
    ]


def test_sync_mode_outside_a_transaction_is_sealed_when_record_returns() -> None:
    audit.record("job.start", actor="op", target="job:1", data={"x": 1})

    assert AuditEntry.objects.get().seq == 1


async def test_arecord_is_sealed_when_it_returns() -> None:
    from asgiref.sync import sync_to_async

    await audit.arecord("job.cancel", actor="op", target="job:9", data={"why": "stuck"})

    entries = await sync_to_async(recorded_entries)()
    assert [(e["seq"], e["data"]) for e in entries] == [(1, {"why": "stuck"})]


@pytest.mark.postgres
def test_transactional_semantics_on_postgres() -> None:
    def failing_change() -> None:
        with transaction.atomic():
            audit.record("credential.update", actor="alice", target="credential:1", data={})
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    with transaction.atomic():
        audit.record("credential.update", actor="alice", target="credential:2", data={"k": "v"})
    audit.record("job.start", actor="op", target="job:1", data={})

    assert [(e["seq"], e["target"], e["data"]) for e in recorded_entries()] == [
        (1, "credential:2", {"k": "v"}),
        (2, "job:1", {}),
    ]
    assert chain_verify().ok
