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


def test_start_refuses_an_environment_ring_without_the_trail_keys(monkeypatch: Any) -> None:
    import json

    from audit.workers import core_check

    old = json.loads(keyring.dump_keyring(keyring.generate_keyring()))
    del old["pending"], old["tree"]
    monkeypatch.setenv("AUDIT_KEYRING", json.dumps(old))
    keyring.reset_keyring_cache()
    with pytest.raises(RuntimeError, match="no 'pending' and no 'tree' keys"):
        core_check()
    keyring.reset_keyring_cache()


def test_an_embedded_ring_from_before_gains_its_new_keys_and_keeps_the_old_ones() -> None:
    import json

    old = json.loads(keyring.dump_keyring(keyring.generate_keyring()))
    del old["pending"], old["tree"]
    path = keyring.keyring_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(old))
    keyring.reset_keyring_cache()

    ring = keyring.load_keyring()

    assert (ring.pending.active if ring.pending else None, ring.tree.active if ring.tree else None) == ("m1", "t1")
    assert json.loads(path.read_text())["encryption"] == old["encryption"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    audit.record("after.upgrade", actor="a", target="t:1", data={})
    assert chain_verify().ok


def test_rotation_adds_pending_and_tree_keys_and_old_tree_heads_still_verify() -> None:
    from audit.checkpoints import store_read

    audit.record("before.rotation", actor="a", target="t:1", data={})
    call_command("audit_rotate_keys")
    audit.record("after.rotation", actor="a", target="t:2", data={})
    keyring.reset_keyring_cache()

    ring = keyring.load_keyring()
    assert (ring.pending.active if ring.pending else None, ring.tree.active if ring.tree else None) == ("m2", "t2")
    store = store_read()
    assert store.problems == []
    assert {h.key_id for h in store.heads} == {"t1", "t2"}
    assert chain_verify().ok


@pytest.mark.postgres
def test_rotation_on_postgres() -> None:
    test_rotation_adds_pending_and_tree_keys_and_old_tree_heads_still_verify()
