"""The audit admin: read-only, payloads by permission (and audited), verify and export actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

import audit
from audit.models import AuditEntry
from audit.testing import recorded_entries
from audit.writer import get_writer

pytestmark = pytest.mark.django_db
MARKER = "payload-marker-42"


@pytest.fixture
def entry() -> AuditEntry:
    audit.record("credential.update", actor="alice", target="credential:9", data={"note": MARKER})
    get_writer().flush()
    return AuditEntry.objects.get(action="credential.update")


def test_list_filters_and_search(admin_client_: Any, entry: AuditEntry) -> None:
    page = admin_client_.get("/admin/audit/auditentry/", {"q": "credential:9"})
    assert page.status_code == 200
    assert "credential:9" in page.content.decode()
    assert admin_client_.get("/admin/audit/auditentry/", {"action": "credential.update"}).status_code == 200
    assert b"Add audit entry" not in page.content
    later = admin_client_.get(
        "/admin/audit/auditentry/", {"timestamp__gte": "2999-01-01T00:00:00+00:00"}
    )  # a date range bound
    assert later.status_code == 200
    assert "credential:9" not in later.content.decode()


def test_admin_with_decrypt_permission_sees_payload_and_is_audited(admin_client_: Any, entry: AuditEntry) -> None:
    page = admin_client_.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert MARKER in page.content.decode()
    (viewed,) = recorded_entries(action="audit.entry_viewed")
    assert (viewed["actor"], viewed["target"]) == ("boss", f"audit_entry:{entry.seq}")


def test_staff_viewer_without_decrypt_permission_sees_no_payload(
    client: Any, django_user_model: Any, entry: AuditEntry
) -> None:
    user = django_user_model.objects.create_user(username="auditor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(user)
    page = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert MARKER not in html
    assert "hidden: needs" in html
    assert recorded_entries(action="audit.entry_viewed") == []
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403


def test_verify_and_export_actions(admin_client_: Any, entry: AuditEntry) -> None:
    answer = admin_client_.post("/admin/audit/auditentry/", {"action": "verify_chain", "_selected_action": [entry.pk]})
    assert answer.status_code == 302
    shown = [str(m) for m in admin_client_.get(answer["Location"]).context["messages"]]
    assert any(text.startswith("audit chain OK") for text in shown), shown

    export = admin_client_.post("/admin/audit/auditentry/", {"action": "export_jsonl", "_selected_action": [entry.pk]})
    assert export["Content-Type"] == "application/x-ndjson"
    body = export.content.decode()
    assert "credential:9" in body
    assert MARKER not in body
    assert recorded_entries(action="audit.exported")[0]["data"]["count"] == 1


def test_download_receipt_from_the_entry_page_verifies_alone(
    admin_client_: Any, entry: AuditEntry, tmp_path: Any, capsys: Any
) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    from django.core.management import call_command

    page = admin_client_.get(f"/admin/audit/auditentry/{entry.pk}/change/").content.decode()
    url = f"/admin/audit/auditentry/{entry.pk}/receipt/"
    assert url in page
    answer = admin_client_.get(url)
    assert answer.status_code == 200
    assert f'filename="audit-receipt-{entry.seq}.json"' in answer["Content-Disposition"]
    receipt = tmp_path / "receipt.json"
    receipt.write_bytes(answer.content)
    capsys.readouterr()
    call_command("audit_public_key")
    key = tmp_path / "key.json"
    key.write_text(capsys.readouterr().out)
    verifier = Path(__file__).resolve().parents[2] / "scripts" / "audit_verify_receipt"
    done = subprocess.run(
        [sys.executable, str(verifier), "--public-key", str(key), str(receipt)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    assert json.loads(answer.content)["entry"]["seq"] == entry.seq


def test_receipt_link_speaks_portuguese_and_needs_the_verify_permission(
    admin_client_: Any, viewer_client: Any, entry: AuditEntry
) -> None:
    page = admin_client_.get(f"/admin/audit/auditentry/{entry.pk}/change/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert "Baixar recibo" in page.content.decode()
    assert viewer_client.get(f"/admin/audit/auditentry/{entry.pk}/receipt/").status_code in (302, 403)


@pytest.fixture
def auditor(django_user_model: Any) -> Any:
    from tests.conftest import _user

    return _user(django_user_model, "auditor", "Auditors", is_staff=True)


def test_an_auditor_verifies_the_whole_chain_without_selecting_a_row(auditor: Any, entry: AuditEntry) -> None:
    from django.test import Client

    client = Client()
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    listing = client.get("/admin/audit/auditentry/").content.decode()
    assert 'id="verify-chain"' in listing
    done = client.post("/admin/audit/auditentry/verify/", follow=True).content.decode()
    assert "Audit chain OK" in done
    get_writer().flush()
    assert recorded_entries(action="audit.chain_verified")[-1]["actor"] == "auditor"


def test_an_auditor_reads_a_payload_summary_per_row_and_the_reading_is_audited(auditor: Any, entry: AuditEntry) -> None:
    from django.test import Client

    client = Client()
    client.force_login(auditor)
    listing = client.get("/admin/audit/auditentry/").content.decode()
    assert f"note={MARKER}" in listing
    get_writer().flush()
    viewed = recorded_entries(action="audit.entries_viewed")[-1]
    assert viewed["actor"] == "auditor"
    assert viewed["data"]["count"] >= 1


def test_a_viewer_sees_sealed_payloads_and_no_verify_button(viewer: Any, entry: AuditEntry) -> None:
    from django.test import Client

    type(viewer).objects.filter(pk=viewer.pk).update(is_staff=True)
    client = Client()
    client.force_login(viewer)
    listing = client.get("/admin/audit/auditentry/").content.decode()
    assert MARKER not in listing
    assert 'id="verify-chain"' not in listing
    assert client.post("/admin/audit/auditentry/verify/").status_code == 403
