"""The audit component of /health/detailed and the audit metrics on /metrics."""

from __future__ import annotations

from typing import Any

import pytest

import audit
from audit.models import AuditEntry
from audit.verification import chain_verify
from audit.writer import get_writer

pytestmark = pytest.mark.django_db(transaction=True)  # health checks run on their own threads


def test_health_reports_depth_last_seq_and_last_verification(client: Any) -> None:
    audit.record("test.one", actor="a", target="t:1", data={})
    get_writer().flush()
    chain_verify()

    component = client.get("/health/detailed").json()["components"]["audit"]
    assert component["status"] == "ok"
    assert component["detail"]["last_sealed_seq"] == 1
    assert component["detail"]["buffer_depth"] == 0
    assert component["detail"]["last_verification"]["ok"] is True


def test_health_is_down_after_a_failed_verification(client: Any) -> None:
    audit.record("test.one", actor="a", target="t:1", data={})
    get_writer().flush()
    AuditEntry.objects.filter(seq=1).update(actor="mallory")
    chain_verify()

    component = client.get("/health/detailed").json()["components"]["audit"]
    assert component["status"] == "down"
    assert component["detail"]["last_verification"]["first_bad_seq"] == 1


def test_metrics_expose_the_audit_series(client: Any) -> None:
    audit.record("test.one", actor="a", target="t:1", data={})
    get_writer().flush()
    AuditEntry.objects.filter(seq=1).update(target="t:2")
    chain_verify()

    text = client.get("/metrics").content.decode()
    for name in ("audit_entries_total", "audit_buffer_depth", "audit_flush_failures_total"):
        assert f"\n{name} " in text
    failures = next(line for line in text.splitlines() if line.startswith("audit_verify_failures_total "))
    assert float(failures.split()[1]) >= 1


def test_health_is_degraded_when_committed_entries_stay_unsealed(client: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from audit.services import draft_build, pending_insert

    draft = draft_build(action="test.stuck", actor=None, target="t:1", data={}, request=None)
    pending_insert(draft=draft)  # committed but never sealed, as after repeated seal failures
    AuditEntry.objects.filter(uid=draft.uid).update(timestamp=timezone.now() - timedelta(minutes=10))

    component = client.get("/health/detailed").json()["components"]["audit"]
    assert component["status"] == "degraded"
    assert component["detail"]["pending"] == 1
    assert component["detail"]["oldest_pending_seconds"] >= 600


def test_health_shows_the_signed_tree_head_and_the_truncation_window(client: Any) -> None:
    audit.record("test.one", actor="a", target="t:1", data={})
    audit.record("test.two", actor="a", target="t:2", data={})

    detail = client.get("/health/detailed").json()["components"]["audit"]["detail"]
    assert detail["signed_tree_head"]["size"] == detail["last_sealed_seq"] == 2
    assert detail["truncation_window"]["unsigned_entries"] == 0
    assert "both the database and the checkpoint store" in detail["truncation_window"]["note"]
    assert detail["quarantined_foreign_rows"] == 0
