"""Credential and system forms check before they save; "Test connection" reports the system's own answer."""

from __future__ import annotations

from typing import Any

import pytest

from etl import services
from etl.demo.reports import demo_password, demo_username
from etl.models import Credential

pytestmark = pytest.mark.django_db


def test_a_bad_subaccount_shows_only_the_field_error_and_keeps_the_input(admin_client_: Any, make_system: Any) -> None:
    system = make_system("amplis", credential=False)
    response = admin_client_.post(
        "/admin/etl/credential/add/",
        {"system": system.pk, "subaccount": "nope", "url": "http://x.local", "username": "u1", "password": "pw-1"},
        follow=True,
    )
    assert response.status_code == 200
    assert list(response.context["messages"]) == []  # no green "added", no yellow "ID None"
    form = response.context["adminform"].form
    assert list(form.errors) == ["subaccount"]
    html = response.content.decode()
    assert 'value="nope"' in html
    assert 'value="u1"' in html
    assert not Credential.objects.exists()


def test_the_read_only_view_says_whether_a_password_is_set(admin_client_: Any, make_system: Any) -> None:
    make_system("maps")
    credential = Credential.objects.get()
    html = admin_client_.get(f"/admin/etl/credential/{credential.pk}/change/").content.decode()
    assert "senha definida" in html or "password set" in html


def test_connection_test_reports_success_and_refusal_without_the_secret(
    admin_client_: Any, make_system: Any, demo_server: str
) -> None:
    system = make_system("maps", credential=False)
    good = services.credential_save(
        system_id=system.pk,
        url=demo_server,
        username=demo_username("maps", ""),
        password=demo_password("maps", ""),
        acting_user=None,
    )
    response = admin_client_.post(
        "/admin/etl/credential/", {"action": "test_connection", "_selected_action": [good.pk]}, follow=True
    )
    [ok] = [str(m) for m in response.context["messages"]]
    assert demo_server in ok
    assert "maps" in ok
    assert demo_password("maps", "") not in response.content.decode()

    services.credential_save(
        system_id=system.pk, url=demo_server, username="intruder", password="wrong-pw-1", acting_user=None
    )
    response = admin_client_.post(
        "/admin/etl/credential/", {"action": "test_connection", "_selected_action": [good.pk]}, follow=True
    )
    [refused] = list(response.context["messages"])
    assert refused.level_tag == "error"
    assert "401" in str(refused)
    assert "invalid user or password" in str(refused)
    assert "wrong-pw-1" not in response.content.decode()
    assert "Error" not in str(refused)  # no Python class name


def test_a_bad_system_code_is_a_field_error_and_nothing_is_saved(admin_client_: Any) -> None:
    from etl.models import System

    response = admin_client_.post(
        "/admin/etl/system/add/", {"code": "Amplis", "name": "X", "active": "on", "base_url": "", "command": "[]"}
    )
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    assert not System.objects.filter(name="X").exists()
