"""Key rotation: new entries use new keys, old ones still decrypt and verify, stores are re-sealed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

import audit
from audit.models import AuditEntry
from audit.testing import recorded_entries
from audit.verification import chain_verify
from core import keyring

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_keyring(settings: Any, tmp_path: Any) -> None:
    """Rotate a key ring of this test only (the session's stays at e1/s1)."""
    settings.VAR_DIR = tmp_path
    keyring.reset_keyring_cache()


def test_rotation_keeps_old_entries_readable_and_verifiable(capsys: Any) -> None:
    stored = {"secret": keyring.encrypt("tws-password")}

    def reseal() -> int:
        stored["secret"] = keyring.encrypt(keyring.decrypt(stored["secret"]))
        return 1

    keyring.register_reencryptor("test.store", reseal)
    try:
        audit.record("before.rotation", actor="a", target="t:1", data={"n": 1})
        call_command("audit_rotate_keys")
        audit.record("after.rotation", actor="a", target="t:2", data={"n": 2})
    finally:
        keyring._reencryptors.pop("test.store", None)

    assert "encryption key e2, signing key s2" in capsys.readouterr().out
    assert keyring.key_id_of(stored["secret"]) == "e2"
    assert keyring.decrypt(stored["secret"]) == "tws-password"
    entries = recorded_entries()
    keys = dict(AuditEntry.objects.values_list("action", "key_id"))
    sig_keys = dict(AuditEntry.objects.values_list("action", "sig_key_id"))
    assert (keys["before.rotation"], sig_keys["before.rotation"]) == ("e1", "s1")
    assert (keys["after.rotation"], sig_keys["after.rotation"]) == ("e2", "s2")
    assert [e["action"] for e in entries] == ["before.rotation", "keyring.rotated", "after.rotation"]
    assert entries[1]["data"]["reencrypted"]["test.store"] == 1  # other apps register their stores too
    assert entries[0]["data"] == {"n": 1}
    assert entries[2]["data"] == {"n": 2}

    keyring.reset_keyring_cache()  # as a fresh process would load it
    report = chain_verify()
    assert report.ok
    assert report.checked == 3


def test_rotation_refused_when_keys_come_from_the_environment(monkeypatch: Any) -> None:
    from django.core.management.base import CommandError

    monkeypatch.setenv("AUDIT_KEYRING", keyring.dump_keyring(keyring.generate_keyring()))
    keyring.reset_keyring_cache()
    with pytest.raises(CommandError, match="rotate it in the secret store"):
        call_command("audit_rotate_keys")
    keyring.reset_keyring_cache()


def test_process_with_a_stale_ring_reloads_it_for_a_new_key_id() -> None:
    stale = keyring.load_keyring()
    keyring.rotate_keyring()  # as another process would, through the key file
    token = keyring.encrypt("sealed under the new key")
    keyring._ring = stale  # this process still holds the old ring
    assert keyring.decrypt(token) == "sealed under the new key"
    key_id, signature = keyring.sign(b"head")
    keyring._ring = stale
    assert keyring.verify_signature(b"head", key_id=key_id, signature=signature)
