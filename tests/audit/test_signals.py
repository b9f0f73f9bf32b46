"""Sign-ins, sign-outs and failed sign-ins are audited (never with the password)."""

from __future__ import annotations

from typing import Any

import pytest

from audit.testing import recorded_entries

pytestmark = pytest.mark.django_db


def test_admin_login_logout_and_failed_login(client: Any, admin_user: Any) -> None:
    client.post("/admin/login/", {"username": "boss", "password": "wrong-one-123"})
    client.post("/admin/login/", {"username": "boss", "password": "pw-boss"})
    client.post("/admin/logout/")

    entries = recorded_entries()
    assert [(e["action"], e["actor"], e["target"]) for e in entries] == [
        ("auth.login_failed", "anonymous", "username:boss"),
        ("auth.login", "boss", f"user:{admin_user.pk}"),
        ("auth.logout", "boss", f"user:{admin_user.pk}"),
    ]
    assert entries[0]["data"]["ip"] == "127.0.0.1"
    assert "wrong-one-123" not in str(entries)
