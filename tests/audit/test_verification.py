"""Tampering with the table is detected, with the first bad sequence number."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

import audit
from audit.models import AuditEntry
from audit.verification import chain_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirty() -> None:
    for n in range(30):
        audit.record("test.entry", actor=f"u{n}", target=f"t:{n}", data={"n": n})
    from audit.writer import get_writer

    get_writer().flush()
    assert chain_verify().ok


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def test_intact_chain_verifies(thirty: None) -> None:
    report = chain_verify()
    assert (report.ok, report.checked, report.first_seq, report.last_seq) == (True, 30, 1, 30)


def test_changed_payload_byte(thirty: None) -> None:
    row = AuditEntry.objects.get(seq=12)
    flipped = row.payload[:-3] + ("A" if row.payload[-3] != "A" else "B") + row.payload[-2:]
    AuditEntry.objects.filter(seq=12).update(payload=flipped)
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 12)
    assert "altered" in report.problem


def test_changed_actor(thirty: None) -> None:
    AuditEntry.objects.filter(seq=7).update(actor="someone-else")
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 7)


def test_deleted_row(thirty: None) -> None:
    AuditEntry.objects.filter(seq=15).delete()
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 15)
    assert "missing" in report.problem


def test_inserted_row(thirty: None) -> None:
    # Make room at seq 10 and insert a forged entry that copies a real one's fields.
    _sql("UPDATE audit_auditentry SET seq = seq + 1000 WHERE seq >= 10")
    _sql("UPDATE audit_auditentry SET seq = seq - 999 WHERE seq >= 1010")
    real = AuditEntry.objects.get(seq=11)
    AuditEntry.objects.create(
        uid="00000000-0000-0000-0000-000000000001",
        seq=10,
        timestamp=real.timestamp,
        actor="mallory",
        action="credential.delete",
        target="credential:1",
        key_id=real.key_id,
        payload=real.payload,
        prev_hash=real.prev_hash,
        hash=real.hash,
        signature=real.signature,
        sig_key_id=real.sig_key_id,
    )
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 10)


def test_inserted_row_with_recomputed_hash_fails_its_signature(thirty: None) -> None:
    from audit import chain

    last = AuditEntry.objects.get(seq=30)
    forged = AuditEntry(
        uid="00000000-0000-0000-0000-000000000002",
        seq=31,
        timestamp=last.timestamp,
        actor="mallory",
        action="x",
        target="y",
        key_id=last.key_id,
        payload=last.payload,
        prev_hash=last.hash,
        sig_key_id="s1",
        signature="0" * 64,
    )
    forged.hash = chain.entry_hash(
        seq=31,
        timestamp=forged.timestamp,
        actor="mallory",
        action="x",
        target="y",
        correlation_id="",
        key_id=forged.key_id,
        payload=forged.payload,
        prev_hash=forged.prev_hash,
    )
    forged.save()
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 31)
    assert "signature" in report.problem


def test_two_rows_swapped(thirty: None) -> None:
    _sql("UPDATE audit_auditentry SET seq = -1 WHERE seq = 20")
    _sql("UPDATE audit_auditentry SET seq = 20 WHERE seq = 21")
    _sql("UPDATE audit_auditentry SET seq = 21 WHERE seq = -1")
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 20)


def test_last_ten_rows_deleted(thirty: None) -> None:
    AuditEntry.objects.filter(seq__gt=20).delete()
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 21)
    assert "truncated" in report.problem


def test_last_ten_rows_and_head_rolled_back_caught_by_checkpoint(thirty: None) -> None:
    twentieth = AuditEntry.objects.get(seq=20)
    AuditEntry.objects.filter(seq__gt=20).delete()
    _sql("UPDATE audit_chainhead SET last_seq = 20, last_hash = %s", [twentieth.hash])
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 21)
    assert "signed tree head at size 30" in report.problem


def test_forged_checkpoint_is_reported(thirty: None, settings: Any) -> None:
    from pathlib import Path

    files = sorted(Path(settings.AUDIT_CHECKPOINT_DIR).glob("heads-*.jsonl"))
    files[-1].write_text(files[-1].read_text().replace('"size":30', '"size":99'))
    report = chain_verify()
    assert not report.ok
    assert any("checkpoint store tampered" in line for line in report.lines())


def test_verify_command_exits_non_zero_and_names_the_seq(thirty: None, capsys: Any) -> None:
    AuditEntry.objects.filter(seq=5).update(target="credential:other")
    with pytest.raises(SystemExit) as exited:
        call_command("audit_verify")
    assert exited.value.code == 1
    assert "BROKEN at seq 5" in capsys.readouterr().out


def test_verify_command_records_the_result(thirty: None, capsys: Any) -> None:
    from audit.testing import recorded_entries

    call_command("audit_verify", "--from", "10")
    assert "audit chain OK" in capsys.readouterr().out
    (entry,) = recorded_entries(action="audit.chain_verified")
    assert entry["data"]["ok"] is True
    assert entry["data"]["from_seq"] == 10


@pytest.mark.postgres
def test_tampering_detected_on_postgres(thirty: None) -> None:
    assert chain_verify().ok
    AuditEntry.objects.filter(seq=7).update(actor="someone-else")
    assert chain_verify().first_bad_seq == 7
    AuditEntry.objects.filter(seq=7).delete()
    assert "missing" in chain_verify().problem


def test_from_seq_checks_only_the_later_part(thirty: None) -> None:
    AuditEntry.objects.filter(seq=3).update(actor="someone-else")
    assert chain_verify().first_bad_seq == 3
    report = chain_verify(from_seq=10)
    assert report.ok
    assert (report.first_seq, report.checked) == (10, 21)


def test_altered_head_row_is_reported(thirty: None) -> None:
    _sql("UPDATE audit_chainhead SET last_hash = %s", ["f" * 64])
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 31)
    assert "head row altered" in report.problem


def test_lost_head_row_continues_the_chain(thirty: None) -> None:
    _sql("DELETE FROM audit_chainhead")
    audit.record("test.after", actor="a", target="t:after", data={})
    from audit.writer import get_writer

    get_writer().flush()
    assert AuditEntry.objects.get(action="test.after").seq == 31
    assert chain_verify().ok
