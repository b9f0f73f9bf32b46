"""GET /api/audit and POST /api/audit/verify."""

from __future__ import annotations

import json
from typing import Any

import pytest

import audit
from audit.models import AuditEntry
from audit.testing import recorded_entries
from audit.writer import get_writer

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries() -> None:
    for n in range(12):
        audit.record(f"etl.step{n % 3}", actor=f"user{n % 2}", target=f"job:{n}", data={"n": n, "marker": "m"})
    get_writer().flush()


def test_admin_lists_paginated_filtered_entries_without_payloads(admin_client_: Any, entries: None) -> None:
    answer = admin_client_.get("/api/audit", {"action": "etl.step1", "limit": 2})
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 4
    assert [item["target"] for item in body["items"]] == ["job:1", "job:4"]
    assert all(item["data"] is None for item in body["items"])
    assert "marker" not in answer.content.decode()


def test_action_prefix_and_actor_filters(admin_client_: Any, entries: None) -> None:
    body = admin_client_.get("/api/audit", {"action": "etl.", "actor": "user1", "offset": 1, "limit": 100}).json()
    assert body["count"] == 6
    assert len(body["items"]) == 5


def test_decrypted_listing_is_itself_audited(admin_client_: Any, entries: None) -> None:
    body = admin_client_.get("/api/audit", {"target": "job:3", "decrypt": "true"}).json()
    assert body["items"][0]["data"] == {"n": 3, "marker": "m"}
    (viewed,) = recorded_entries(action="audit.entries_viewed")
    assert viewed["actor"] == "boss"
    assert viewed["data"]["seqs"] == [body["items"][0]["seq"]]


def test_non_admins_are_refused(viewer_client: Any, operator_client: Any, entries: None) -> None:
    for client in (viewer_client, operator_client):
        answer = client.get("/api/audit")
        assert answer.status_code == 403
        assert answer.json()["code"] == "forbidden"
        assert client.post("/api/audit/verify", "{}", content_type="application/json").status_code == 403


def test_anonymous_gets_401(client: Any) -> None:
    assert client.get("/api/audit").status_code == 401


def test_verify_endpoint_reports_tampering(admin_client_: Any, entries: None) -> None:
    good = admin_client_.post("/api/audit/verify", "{}", content_type="application/json").json()
    assert good["ok"] is True
    assert good["checked"] == 13
    AuditEntry.objects.filter(seq=4).update(actor="mallory")
    bad = admin_client_.post("/api/audit/verify", json.dumps({"from_seq": 2}), content_type="application/json")
    assert bad.status_code == 200
    assert (bad.json()["ok"], bad.json()["first_bad_seq"]) == (False, 4)


def test_limit_out_of_range_is_a_422_naming_the_field(admin_client_: Any) -> None:
    answer = admin_client_.get("/api/audit", {"limit": 100000})
    assert answer.status_code == 422
    assert "limit" in answer.json()["detail"]
