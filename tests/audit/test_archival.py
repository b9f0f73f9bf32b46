"""Archival: old entries move to signed gzip files that verify alone; the live chain verifies across the cut."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

import audit
from audit.archival import archive_verify
from audit.models import AuditArchive, AuditEntry
from audit.verification import chain_verify
from audit.writer import get_writer

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(settings: Any, tmp_path: Path, capsys: Any) -> Path:
    settings.AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    for n in range(25):
        audit.record("test.old", actor="a", target=f"t:{n}", data={"n": n})
    get_writer().flush()
    call_command("audit_archive", "--older-than-days", "0")
    assert "archived seq 1..25 (25)" in capsys.readouterr().out
    return tmp_path / "archive" / "audit-000000000001-000000000025.jsonl.gz"


def test_archive_moves_entries_and_live_chain_verifies_across_the_cut(archived: Path) -> None:
    audit.record("test.new", actor="a", target="t:new", data={})
    get_writer().flush()

    assert archived.exists()
    assert archived.with_name(archived.name + ".manifest.json").exists()
    assert AuditArchive.objects.get().last_seq == 25
    assert list(AuditEntry.objects.values_list("seq", "action")) == [(26, "audit.archived"), (27, "test.new")]
    report = chain_verify()
    assert report.ok
    assert (report.first_seq, report.last_seq) == (26, 27)
    lines = gzip.decompress(archived.read_bytes()).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 26))


def test_archive_verifies_on_its_own(archived: Path, capsys: Any) -> None:
    assert archive_verify(archived).ok
    call_command("audit_verify", "--archive", str(archived))
    assert "audit chain OK: 25 entries verified (seq 1..25)" in capsys.readouterr().out


def test_altered_archive_is_detected(archived: Path) -> None:
    lines = gzip.decompress(archived.read_bytes()).splitlines()
    doc = json.loads(lines[4])
    doc["actor"] = "mallory"
    lines[4] = json.dumps(doc).encode()
    archived.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    report = archive_verify(archived)
    assert not report.ok
    assert "SHA-256" in report.problem

    manifest_path = archived.with_name(archived.name + ".manifest.json")
    manifest = json.loads(manifest_path.read_text())
    import hashlib

    manifest["file_sha256"] = hashlib.sha256(archived.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    assert "manifest signature invalid" in archive_verify(archived).problem


def test_deleting_first_live_entries_after_a_cut_is_detected(archived: Path) -> None:
    audit.record("test.new", actor="a", target="t:new", data={})
    get_writer().flush()
    AuditEntry.objects.filter(seq=26).delete()
    report = chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 26)


def test_nothing_young_is_archived(settings: Any, tmp_path: Path) -> None:
    from audit.archival import entries_archive

    settings.AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    audit.record("test.young", actor="a", target="t:1", data={})
    get_writer().flush()
    assert entries_archive(older_than_days=30) is None
    assert AuditEntry.objects.count() == 1
