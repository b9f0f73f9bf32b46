"""Credentials: validated per system, sealed at rest, never returned, re-encrypted on key rotation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from audit.testing import recorded_entries
from core import keyring
from etl.models import Credential
from tests.sqlite_files import stored_bytes

SECRET_A = "Tr0ub4dor&3-amplis-reag"
SECRET_B = "correct-horse-battery-maps"


def _post(client: Any, body: Any) -> Any:
    return client.post("/api/credentials", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def systems(make_system: Any) -> None:
    make_system("amplis", credential=False)
    make_system("maps", credential=False)


def _save_both(admin_client_: Any) -> Any:
    return _post(
        admin_client_,
        {
            "amplis": {
                "reag": {"url": "http://amplis.local", "username": "reag-user", "password": SECRET_A},
                "master": {"url": "http://amplis.local", "username": "master-user", "password": SECRET_A + "-m"},
            },
            "maps": {"url": "https://maps.local", "username": "maps-user", "password": SECRET_B},
        },
    )


def test_saved_credentials_are_shown_without_passwords(admin_client_: Any, systems: None, viewer_client: Any) -> None:
    saved = _save_both(admin_client_)
    assert saved.status_code == 200, saved.content
    listed = viewer_client.get("/api/credentials")
    assert listed.status_code == 200
    for body in (saved.content.decode(), listed.content.decode()):
        assert SECRET_A not in body
        assert SECRET_B not in body
    shaped = listed.json()
    assert shaped["maps"]["username"] == "maps-user"
    assert shaped["maps"]["password_set"] is True
    assert shaped["amplis"]["reag"]["password_set"] is True
    assert shaped["amplis"]["master"]["username"] == "master-user"
    assert "password" not in shaped["maps"]


@pytest.mark.django_db(transaction=True)
def test_the_database_file_holds_no_plaintext_password(
    transactional_db: None, admin_client_: Any, systems: None
) -> None:
    assert _save_both(admin_client_).status_code == 200
    if connection.vendor != "sqlite":
        pytest.skip("searches SQLite's raw bytes")
    connection.ensure_connection()
    raw = connection.connection.serialize()  # the database image, in memory or on disk
    name = str(connection.settings_dict["NAME"])
    if "memory" not in name:
        raw += stored_bytes(name)  # never read_bytes() here: it drops this process's locks on the file
    assert b"reag-user" in raw  # the search looks at the right bytes
    assert SECRET_A.encode() not in raw
    assert SECRET_B.encode() not in raw


def test_the_audit_entry_names_the_change_but_not_the_secret(admin_client_: Any, systems: None) -> None:
    _save_both(admin_client_)
    entries = recorded_entries(action="credential.create")
    assert len(entries) == 3
    assert all(e["data"]["password_changed"] is True for e in entries)
    assert SECRET_A not in json.dumps(entries)
    assert SECRET_B not in json.dumps(entries)


def test_key_rotation_reencrypts_and_old_values_still_decrypt(admin_client_: Any, systems: None) -> None:
    from etl.services.credentials import credential_password

    _save_both(admin_client_)
    before = {c.pk: c.password_sealed for c in Credential.objects.all()}
    old_key = keyring.key_id_of(next(iter(before.values())))
    keyring.rotate_keyring()
    assert all(credential_password(c) for c in Credential.objects.select_related("system"))  # old key still reads
    counts = keyring.reencrypt_all()
    assert counts["etl.credential"] == 3
    after = Credential.objects.select_related("system").order_by("pk")
    assert all(keyring.key_id_of(c.password_sealed) != old_key for c in after)
    assert credential_password(after.get(system__code="maps")) == SECRET_B
    assert keyring.reencrypt_all()["etl.credential"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nope": {"url": "http://x", "username": "u", "password": "p"}}, "nope"),
        ({"amplis": {"other": {"url": "http://x", "username": "u", "password": "p"}}}, "amplis.other"),
        ({"maps": {"url": "ftp://x", "username": "u", "password": "p"}}, "maps.url"),
        ({"maps": {"url": "http://x", "username": "", "password": "p"}}, "maps.username"),
        ({"maps": {"url": "http://x", "username": "u"}}, "maps.password"),
        ({"maps": {"url": "http://x", "username": "u", "password": 5}}, "maps.password"),
        ({"maps": "user:pass"}, "maps"),
    ],
)
def test_invalid_credentials_name_the_field_and_store_nothing(
    admin_client_: Any, systems: None, body: Any, field: str
) -> None:
    response = _post(admin_client_, body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"].startswith(field)
    assert Credential.objects.count() == 0


def test_an_empty_password_keeps_the_stored_one(admin_client_: Any, systems: None) -> None:
    from etl.services.credentials import credential_password

    _save_both(admin_client_)
    response = _post(admin_client_, {"maps": {"url": "https://maps2.local", "username": "maps-user2", "password": ""}})
    assert response.status_code == 200
    credential = Credential.objects.select_related("system").get(system__code="maps")
    assert credential.url == "https://maps2.local"
    assert credential_password(credential) == SECRET_B


def test_operators_cannot_change_credentials(operator_client: Any, systems: None) -> None:
    assert _post(operator_client, {"maps": {"url": "http://x", "username": "u", "password": "p"}}).status_code == 403


def test_repr_of_a_credential_shows_no_secret(admin_client_: Any, systems: None) -> None:
    _save_both(admin_client_)
    credential = Credential.objects.select_related("system").get(system__code="maps")
    assert SECRET_B not in repr(credential)
    assert credential.password_sealed not in repr(credential)
