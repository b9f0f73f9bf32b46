"""Tampering by direct SQL on a trail of 300 entries: each is reported with its seq and never stops the trail.

Each case runs on SQLite and, in the PostgreSQL run, on PostgreSQL (the ``-pg`` ids).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

import audit
from audit import chain
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

ENTRIES = 300


@pytest.fixture
def trail(settings: Any) -> Path:
    """Write 300 entries in 10 committed transactions (10 sealing batches, 10 signed tree heads, 4 files)."""
    settings.AUDIT_CHECKPOINT_EVERY = 3
    for batch in range(10):
        with transaction.atomic():
            for n in range(30):
                audit.record("test.entry", actor=f"u{n}", target=f"t:{batch}:{n}", data={"n": n})
    assert AuditEntry.objects.filter(seq__isnull=False).count() == ENTRIES
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _verify(capsys: Any) -> tuple[int, str]:
    capsys.readouterr()
    try:
        call_command("audit_verify")
    except SystemExit as exited:
        return int(exited.code or 0), capsys.readouterr().out
    return 0, capsys.readouterr().out


def _top() -> int:
    return int(AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True)[0])


def _hash_of(seq: int) -> str:
    return AuditEntry.objects.get(seq=seq).hash


def _forge_row(seq: int | None, **fields: Any) -> None:
    real = AuditEntry.objects.get(seq=_top())
    AuditEntry.objects.create(
        uid=uuid.uuid4(),
        seq=seq,
        timestamp=timezone.now(),
        actor="mallory",
        action="credential.delete",
        target="credential:1",
        key_id=real.key_id,
        payload=real.payload,
        prev_hash=real.hash,
        hash=fields.pop("hash", "ab" * 32),
        signature="cd" * 32,
        sig_key_id="s1",
        **fields,
    )


# --- the tamperings ----------------------------------------------------------
def changed_field(store: Path) -> str:
    AuditEntry.objects.filter(seq=150).update(target="credential:other")
    return "seq 150: entry altered"


def deleted_middle_row(store: Path) -> str:
    AuditEntry.objects.filter(seq=150).delete()
    return "seq 150: entries 150..150 are missing"


def two_rows_swapped(store: Path) -> str:
    _sql("UPDATE audit_auditentry SET seq = -1 WHERE seq = 100")
    _sql("UPDATE audit_auditentry SET seq = 100 WHERE seq = 101")
    _sql("UPDATE audit_auditentry SET seq = 101 WHERE seq = -1")
    return "seq 100: entry altered"


def forged_row_at_head_plus_one(store: Path) -> str:
    top = _top()
    _forge_row(top + 1)
    return f"seq {top + 1}: foreign row"


def forged_row_at_head_plus_one_with_the_head_moved(store: Path) -> str:
    top = _top()
    _forge_row(top + 1, hash="ef" * 32)
    _sql("UPDATE audit_chainhead SET last_seq = %s, last_hash = %s", [top + 1, "ef" * 32])
    return f"seq {top + 1}: foreign row"


def forged_pending_row(store: Path) -> str:
    _forge_row(None, pending_mac="m1$" + "00" * 32)
    return "quarantined (written as pending, credential.delete credential:1): the recorder did not write it"


def _truncate(keep: int) -> None:
    kept = _hash_of(keep) if keep else chain.GENESIS_HASH
    AuditEntry.objects.filter(seq__gt=keep).delete()
    _sql("UPDATE audit_chainhead SET last_seq = %s, last_hash = %s", [keep, kept])


def last_row_deleted_and_head_rolled_back(store: Path) -> str:
    top = _top()
    _truncate(top - 1)
    return f"seq {top}: tail truncated"


def last_ten_rows_deleted_and_head_rolled_back(store: Path) -> str:
    top = _top()
    _truncate(top - 10)
    return f"seq {top - 9}: tail truncated"


def all_rows_and_head_row_deleted(store: Path) -> str:
    AuditEntry.objects.all().delete()
    _sql("DELETE FROM audit_chainhead")
    return "seq 1: tail truncated"


def middle_checkpoint_file_deleted(store: Path) -> str:
    sorted(store.glob("heads-*.jsonl"))[1].unlink()
    return "are missing before heads-"


def newest_checkpoint_file_deleted(store: Path) -> str:
    newest = sorted(store.glob("heads-*.jsonl"))[-1]
    newest.unlink()
    return "are covered by no signed tree head"


def every_checkpoint_file_deleted(store: Path) -> str:
    for path in store.glob("heads-*.jsonl"):
        path.unlink()
    return f"seq 1: entries 1..{_top()} are covered by no signed tree head"


def checkpoint_file_edited(store: Path) -> str:
    path = sorted(store.glob("heads-*.jsonl"))[1]
    path.write_text(path.read_text().replace('"size":', '"size":1', 1))
    return "fails its signature"


def checkpoint_file_replaced(store: Path) -> str:
    files = sorted(store.glob("heads-*.jsonl"))
    files[2].write_bytes(files[1].read_bytes())  # a validly signed file, in the wrong place
    return "repeats record"


CASES: list[Callable[[Path], str]] = [
    changed_field,
    deleted_middle_row,
    two_rows_swapped,
    forged_row_at_head_plus_one,
    forged_row_at_head_plus_one_with_the_head_moved,
    forged_pending_row,
    last_row_deleted_and_head_rolled_back,
    last_ten_rows_deleted_and_head_rolled_back,
    all_rows_and_head_row_deleted,
    middle_checkpoint_file_deleted,
    newest_checkpoint_file_deleted,
    every_checkpoint_file_deleted,
    checkpoint_file_edited,
    checkpoint_file_replaced,
]
PARAMS = [pytest.param(case, id=case.__name__) for case in CASES] + [
    pytest.param(case, id=f"{case.__name__}-pg", marks=pytest.mark.postgres) for case in CASES
]


def _still_records(label: str) -> None:
    audit.record("test.after", actor="op", target=f"t:{label}", data={})
    row = AuditEntry.objects.get(action="test.after", target=f"t:{label}")
    assert row.seq is not None  # sealed: the trail goes on


@pytest.mark.parametrize("tamper", PARAMS)
def test_tampering_is_reported_with_its_seq_and_the_trail_goes_on(
    tamper: Callable[[Path], str], trail: Path, capsys: Any
) -> None:
    assert _verify(capsys)[0] == 0
    expected = tamper(trail)

    _still_records("before-verify")
    status, out = _verify(capsys)

    assert status == 1, out
    assert expected in out, out
    assert "Traceback" not in out
    _still_records("after-verify")
    assert _verify(capsys)[0] == 1  # still reported on the next run: nothing was papered over


@pytest.mark.parametrize("tamper", PARAMS[:1] + PARAMS[len(CASES) : len(CASES) + 1])
def test_truncation_on_a_trail_never_verified_before(tamper: Any, trail: Path, capsys: Any) -> None:
    expected = last_ten_rows_deleted_and_head_rolled_back(trail)

    status, out = _verify(capsys)

    assert (status, expected in out) == (1, True), out


@pytest.mark.parametrize("case", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def test_foreign_rows_are_kept_never_sealed_and_counted(case: str, trail: Path, client: Any, capsys: Any) -> None:
    from audit import metrics

    before = metrics.foreign_rows_total._value.get()
    forged_pending_row(trail)
    forged_row_at_head_plus_one(trail)

    _still_records("x")

    foreign = AuditEntry.objects.filter(actor="mallory")
    assert foreign.count() == 2
    assert all(row.seq is None and row.quarantined_at is not None for row in foreign)
    assert sorted(row.foreign_seq or 0 for row in foreign) == [0, ENTRIES + 1]
    assert metrics.foreign_rows_total._value.get() - before == 2
    assert AuditEntry.objects.get(target="t:x").seq == ENTRIES + 1  # genuine entries took the place
    component = client.get("/health/detailed").json()["components"]["audit"]
    assert component["status"] == "down"
    assert component["detail"]["quarantined_foreign_rows"] == 2
    metrics_text = client.get("/metrics").content.decode()
    assert "audit_foreign_rows_total" in metrics_text


def test_verify_reports_an_unreadable_store_and_a_missing_table_without_a_traceback(trail: Path, capsys: Any) -> None:
    import shutil

    shutil.rmtree(trail)
    trail.write_text("not a directory")  # the store's mount went wrong
    status, out = _verify(capsys)
    assert status == 1
    assert "checkpoint store emptied" in out
    assert "Traceback" not in out

    _sql("ALTER TABLE audit_auditentry RENAME TO audit_auditentry_away")
    try:
        status, out = _verify(capsys)
    finally:
        _sql("ALTER TABLE audit_auditentry_away RENAME TO audit_auditentry")
    assert status == 2
    assert out.startswith("audit chain NOT VERIFIED")
