"""Operator use cases: verify, archive, rotate keys, read a decrypted entry — each one audited."""

from __future__ import annotations

import json
from typing import Any

import audit
from audit.archival import ArchiveResult, archive_cutoff, entries_archive
from audit.models import AuditEntry
from audit.verification import VerifyReport, chain_verify
from audit.writer import get_writer
from core import keyring


def chain_verify_recorded(*, actor: Any, from_seq: int | None = None) -> VerifyReport:
    """Verify the chain and record the result; a failure to seal or record is a finding, never a crash."""
    try:
        get_writer().flush()  # verify what was accepted so far (foreign rows get quarantined), not an older state
    except Exception as exc:  # noqa: BLE001 — reported below; verification still runs on what is sealed
        sealing_error = f"sealing before verification failed: {type(exc).__name__}: {str(exc)[:200]}"
    else:
        sealing_error = ""
    report = chain_verify(from_seq=from_seq)
    if sealing_error:
        report.fail(None, sealing_error)
    try:
        audit.record(
            "audit.chain_verified",
            actor=actor,
            target="audit:chain",
            data={
                "ok": report.ok,
                "checked": report.checked,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
                "findings": report.findings_total,
                "from_seq": from_seq,
            },
        )
    except Exception as exc:  # noqa: BLE001 — the report is what the operator needs; say the record is missing
        report.warnings.append(f"verification result not recorded in the trail: {type(exc).__name__}")
    return report


def entries_archive_recorded(*, actor: Any, older_than_days: int | None = None) -> list[ArchiveResult]:
    """Archive every entry past retention (in files of up to 100,000 entries) and record each archive."""
    results: list[ArchiveResult] = []
    # One cutoff for the whole run: the entries recording each archive must not become the next archive.
    cutoff = archive_cutoff(older_than_days=older_than_days)
    while (result := entries_archive(cutoff=cutoff)) is not None:
        results.append(result)
        audit.record(
            "audit.archived",
            actor=actor,
            target=f"audit_archive:{result.first_seq}-{result.last_seq}",
            data={"file": result.path.name, "count": result.count},
        )
    return results


def keys_rotate(*, actor: Any) -> dict[str, Any]:
    """Add and activate new keys, re-seal every registered store, and record the rotation."""
    get_writer().flush()  # entries accepted before the rotation are sealed under the old keys
    ring = keyring.rotate_keyring()
    counts = keyring.reencrypt_all()
    summary = {"encryption_key": ring.encryption.active, "signing_key": ring.signing.active, "reencrypted": counts}
    audit.record("keyring.rotated", actor=actor, target="keyring", data=summary)
    get_writer().flush()  # its tree head is the first signed with the new tree key
    return summary


SUMMARY_CHARS = 90


def _summary(data: Any) -> str:
    if not isinstance(data, dict):
        return str(data)[:SUMMARY_CHARS]
    parts = [f"{key}={value}" for key, value in data.items() if not isinstance(value, dict | list)]
    parts += [f"{key}=…" for key, value in data.items() if isinstance(value, dict | list)]
    text = ", ".join(parts)
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def entries_summarised(*, actor: Any, entries: list[AuditEntry]) -> dict[int, str]:
    """Return a one-line summary of each entry's decrypted payload; the reading is recorded as one entry."""
    summaries = {entry.pk: _summary(json.loads(keyring.decrypt(entry.payload))) for entry in entries}
    if entries:
        seqs = [entry.seq for entry in entries if entry.seq is not None]
        audit.record(
            "audit.entries_viewed",
            actor=actor,
            target="audit:list",
            data={"count": len(entries), "seqs": [min(seqs), max(seqs)] if seqs else []},
        )
    return summaries


def entry_view_decrypted(*, actor: Any, entry: AuditEntry) -> Any:
    """Return the decrypted payload of ``entry``; reading it is itself recorded."""
    data = json.loads(keyring.decrypt(entry.payload))
    audit.record(
        "audit.entry_viewed",
        actor=actor,
        target=f"audit_entry:{entry.seq if entry.seq is not None else entry.uid}",
        data={"action": entry.action, "target": entry.target},
    )
    return data
