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


def test_failed_login_with_an_unknown_username_stores_no_copy_of_it(client: Any, admin_user: Any) -> None:
    from django.db import connection

    typed = "Hunter2-my-password!"  # a password typed into the username field
    client.post("/admin/login/", {"username": typed, "password": "whatever-else"})
    client.post("/admin/login/", {"username": typed, "password": "again"})
    client.post("/admin/login/", {"username": "someone-else", "password": "x"})

    entries = recorded_entries(action="auth.login_failed")
    targets = [e["target"] for e in entries]
    assert targets[0] == targets[1]  # repeated attempts on one name still group together
    assert targets[2] != targets[0]
    assert all(t.startswith("unknown-username:") for t in targets)
    assert typed not in str(entries)
    with connection.cursor() as cursor:  # nowhere in the trail's table, in any column
        cursor.execute("SELECT * FROM audit_auditentry")
        assert typed not in str(cursor.fetchall())
