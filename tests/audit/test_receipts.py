"""Receipts and consistency proofs, checked as an auditor would: the standalone verifier and the public key only."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

import audit
from audit import chain
from audit.models import AuditEntry, TreeNode

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "scripts" / "audit_verify_receipt"
BOTH = ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)]


@pytest.fixture
def trail() -> None:
    """Write 700 entries in batches of 70 (ten signed tree heads; subtrees of 256 leaves are stored)."""
    for batch in range(10):
        with transaction.atomic():
            for n in range(70):
                audit.record("test.entry", actor=f"u{n}", target=f"t:{batch}:{n}", data={"n": n})


@pytest.fixture
def public_key(tmp_path: Path, capsys: Any) -> Path:
    capsys.readouterr()
    call_command("audit_public_key")
    path = tmp_path / "audit-public-key.json"
    path.write_text(capsys.readouterr().out)
    assert "PRIVATE" not in path.read_text().upper()
    return path


def _check(public_key: Path, document: dict[str, Any], tmp_path: Path, *extra: str) -> tuple[int, str]:
    path = tmp_path / "document.json"
    path.write_text(json.dumps(document))
    # A clean environment and no project on the path: the verifier stands alone.
    done = subprocess.run(
        [sys.executable, "-I", str(VERIFIER), "--public-key", str(public_key), *extra, str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done.returncode, done.stdout + done.stderr


def _flip(text: str, at: int = 5) -> str:
    return text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :]


@pytest.mark.parametrize("db", BOTH)
def test_receipt_verifies_alone_and_fails_after_one_byte_changes(
    db: str, trail: None, admin_client_: Any, public_key: Path, tmp_path: Path
) -> None:
    answer = admin_client_.get("/api/audit/300/receipt")
    assert answer.status_code == 200, answer.content
    receipt = answer.json()
    assert receipt["tree_head"]["size"] >= 300

    status, out = _check(public_key, receipt, tmp_path)
    assert (status, out.startswith("OK: entry seq 300 is in the signed tree")) == (0, True), out

    def broken(mutate: Any) -> int:
        copy = json.loads(json.dumps(receipt))
        mutate(copy)
        return _check(public_key, copy, tmp_path)[0]

    assert broken(lambda r: r["entry"].update(payload=_flip(r["entry"]["payload"], 10))) == 1
    assert broken(lambda r: r["entry"].update(actor="mallory")) == 1
    assert broken(lambda r: r["inclusion_proof"].__setitem__(2, _flip(r["inclusion_proof"][2]))) == 1
    assert broken(lambda r: r["tree_head"].update(root=_flip(r["tree_head"]["root"]))) == 1
    assert broken(lambda r: r["tree_head"].update(timestamp=_flip(r["tree_head"]["timestamp"], 3))) == 1
    assert broken(lambda r: r["tree_head"].update(signature=_flip(r["tree_head"]["signature"], 8))) == 1


def test_every_entry_of_a_small_tree_has_a_receipt(admin_client_: Any, public_key: Path, tmp_path: Path) -> None:
    for n in range(5):
        audit.record("test.entry", actor="a", target=f"t:{n}", data={})
    for seq in range(1, 6):
        status, out = _check(public_key, admin_client_.get(f"/api/audit/{seq}/receipt").json(), tmp_path)
        assert status == 0, out


@pytest.mark.parametrize("db", BOTH)
def test_consistency_proof_verifies_and_fails_after_a_row_is_rewritten(
    db: str, trail: None, admin_client_: Any, public_key: Path, tmp_path: Path
) -> None:
    old_receipt = admin_client_.get("/api/audit/100/receipt").json()  # an auditor kept this tree head
    first = old_receipt["tree_head"]["size"]
    for n in range(30):
        audit.record("test.later", actor="a", target=f"t:later:{n}", data={})

    answer = admin_client_.get("/api/audit/consistency", {"first": first})
    assert answer.status_code == 200, answer.content
    proof = answer.json()
    assert proof["second_size"] > first
    receipt_path = tmp_path / "old-receipt.json"
    receipt_path.write_text(json.dumps(old_receipt))
    status, out = _check(public_key, proof, tmp_path, "--consistency", "--first", str(receipt_path))
    assert status == 0, out
    assert f"the tree of {first} entries is a prefix" in out

    # Rewrite entry 50 as someone with the database would: new content, recomputed hash, and the stored
    # tree nodes above it dropped so that the server recomputes them from the rewritten rows.
    row = AuditEntry.objects.get(seq=50)
    forged_hash = chain.entry_hash(
        seq=50,
        timestamp=row.timestamp,
        actor="mallory",
        action=row.action,
        target=row.target,
        correlation_id=row.correlation_id,
        key_id=row.key_id,
        payload=row.payload,
        prev_hash=row.prev_hash,
    )
    AuditEntry.objects.filter(seq=50).update(actor="mallory", hash=forged_hash)
    status, out = _check(public_key, admin_client_.get("/api/audit/50/receipt").json(), tmp_path)
    assert status == 1, out
    TreeNode.objects.all().delete()
    rewritten = admin_client_.get("/api/audit/consistency", {"first": first}).json()
    status, out = _check(public_key, rewritten, tmp_path, "--consistency", "--first", str(receipt_path))
    assert status == 1, out
    assert "does not match the signed roots" in out


def test_receipts_need_the_verify_permission_and_name_what_is_missing(viewer_client: Any, admin_client_: Any) -> None:
    audit.record("test.entry", actor="a", target="t:1", data={})
    assert viewer_client.get("/api/audit/1/receipt").status_code == 403
    missing = admin_client_.get("/api/audit/99/receipt")
    assert (missing.status_code, missing.json()["code"]) == (404, "proof_not_available")
    assert admin_client_.get("/api/audit/consistency", {"first": 50}).status_code == 404
    assert admin_client_.get("/api/audit/0/receipt").status_code == 422
    assert admin_client_.get(f"/api/audit/{2**63}/receipt").status_code == 422


def test_public_key_export_rotates_with_the_ring(public_key: Path, tmp_path: Path, capsys: Any) -> None:
    before = json.loads(public_key.read_text())["keys"]
    call_command("audit_rotate_keys")
    capsys.readouterr()
    call_command("audit_public_key")
    after = json.loads(capsys.readouterr().out)["keys"]
    assert set(before) == {"t1"}
    assert set(after) == {"t1", "t2"}
    assert after["t1"] == before["t1"]  # old tree heads stay verifiable


@pytest.mark.parametrize("db", BOTH)
def test_archival_keeps_receipts_verification_and_carries_the_tree_heads(
    db: str, trail: None, admin_client_: Any, public_key: Path, tmp_path: Path, settings: Any, capsys: Any
) -> None:
    from audit.archival import archive_verify

    settings.AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    call_command("audit_archive", "--older-than-days", "0")
    (archived,) = sorted((tmp_path / "archive").glob("*.jsonl.gz"))
    manifest = json.loads(archived.with_name(archived.name + ".manifest.json").read_text())
    assert manifest["tree_heads"]  # the signed tree heads that fall inside the archive
    assert all(manifest["first_seq"] <= head["size"] <= manifest["last_seq"] for head in manifest["tree_heads"])
    assert archive_verify(archived).ok
    for n in range(40):
        audit.record("test.after-archive", actor="a", target=f"t:{n}", data={})

    live = AuditEntry.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", flat=True)
    for seq in (live[0], live[5], live[len(live) - 1]):
        status, out = _check(public_key, admin_client_.get(f"/api/audit/{seq}/receipt").json(), tmp_path)
        assert status == 0, out
    assert admin_client_.get(f"/api/audit/{manifest['first_seq']}/receipt").status_code == 404  # in the archive
    capsys.readouterr()
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "audit chain OK" in out
    assert "Merkle tree not checked" not in out

    # A changed archived entry is caught by its chain and by the tree heads the archive carries.
    lines = gzip.decompress(archived.read_bytes()).splitlines()
    doc = json.loads(lines[7])
    doc["hash"] = "ab" * 32
    lines[7] = json.dumps(doc).encode()
    archived.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    assert not archive_verify(archived).ok
