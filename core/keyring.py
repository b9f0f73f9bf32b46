"""The project's one key ring: encryption (AES-256-GCM) and signing (HMAC-SHA256) keys.

Every secret at rest (ETL credentials, the TWS password, audit payloads) is
sealed here. A sealed value names the key that sealed it, so rotation adds a
key without breaking what was sealed before. Keys come from the environment
(``AUDIT_KEYRING`` holding the JSON document below) in production, and from
``var/keys/keyring.json`` (created once, mode 0600) in the embedded default::

    {"encryption": {"active": "e1", "keys": {"e1": "<base64 32 bytes>"}},
     "signing":    {"active": "s1", "keys": {"s1": "<base64 32 bytes>"}}}
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from core.errors import KeyRingError

_KEY_BYTES = 32
_NONCE_BYTES = 12
_SEP = "$"


@dataclass(frozen=True)
class KeySet:
    """Keys of one purpose: the active id and every id still readable."""

    active: str
    keys: dict[str, bytes]

    def __repr__(self) -> str:  # never show key material
        return f"KeySet(active={self.active!r}, ids={sorted(self.keys)!r})"


@dataclass(frozen=True)
class KeyRing:
    """Encryption and signing key sets."""

    encryption: KeySet
    signing: KeySet

    def __repr__(self) -> str:
        return f"KeyRing(encryption={self.encryption!r}, signing={self.signing!r})"


def _decode_set(doc: object, purpose: str) -> KeySet:
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), dict) or not doc["keys"]:
        raise KeyRingError(f"key ring: '{purpose}' must hold a non-empty 'keys' object")
    keys: dict[str, bytes] = {}
    for key_id, encoded in doc["keys"].items():
        if not isinstance(key_id, str) or not key_id or _SEP in key_id:
            raise KeyRingError(f"key ring: '{purpose}' has an invalid key id {key_id!r}")
        try:
            raw = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyRingError(f"key ring: '{purpose}' key {key_id!r} is not valid base64") from exc
        if len(raw) != _KEY_BYTES:
            raise KeyRingError(f"key ring: '{purpose}' key {key_id!r} must be {_KEY_BYTES} bytes, not {len(raw)}")
        keys[key_id] = raw
    active = doc.get("active")
    if active not in keys:
        raise KeyRingError(f"key ring: '{purpose}' active key {active!r} is not among its keys")
    return KeySet(active=str(active), keys=keys)


def parse_keyring(text: str) -> KeyRing:
    """Return the key ring described by ``text`` (JSON) or raise ``KeyRingError``."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyRingError(f"key ring is not valid JSON (line {exc.lineno})") from None
    if not isinstance(doc, dict):
        raise KeyRingError("key ring must be a JSON object with 'encryption' and 'signing'")
    return KeyRing(
        encryption=_decode_set(doc.get("encryption"), "encryption"), signing=_decode_set(doc.get("signing"), "signing")
    )


def dump_keyring(ring: KeyRing) -> str:
    """Return the JSON document for ``ring`` (key material included: handle with care)."""

    def encode(keyset: KeySet) -> dict[str, object]:
        return {"active": keyset.active, "keys": {k: base64.b64encode(v).decode() for k, v in keyset.keys.items()}}

    return json.dumps({"encryption": encode(ring.encryption), "signing": encode(ring.signing)}, indent=2)


def _new_key_id(prefix: str, existing: dict[str, bytes]) -> str:
    number = len(existing) + 1
    while f"{prefix}{number}" in existing:
        number += 1
    return f"{prefix}{number}"


def generate_keyring() -> KeyRing:
    """Return a fresh key ring with one key of each purpose."""
    return KeyRing(
        encryption=KeySet(active="e1", keys={"e1": secrets.token_bytes(_KEY_BYTES)}),
        signing=KeySet(active="s1", keys={"s1": secrets.token_bytes(_KEY_BYTES)}),
    )


def keyring_path() -> Path:
    """Return the embedded key ring file."""
    return Path(settings.VAR_DIR) / "keys" / "keyring.json"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


_lock = threading.Lock()
_ring: KeyRing | None = None


def load_keyring() -> KeyRing:
    """Return the configured key ring, loading (or creating, embedded only) it once."""
    global _ring
    ring = _ring
    if ring is not None:  # the hot path: no lock once loaded
        return ring
    with _lock:
        if _ring is None:
            text = os.environ.get("AUDIT_KEYRING", "")
            if text:
                _ring = parse_keyring(text)
            elif getattr(settings, "PRODUCTION", False):
                raise KeyRingError("AUDIT_KEYRING is required when RESYNC_ENV=production")
            else:
                path = keyring_path()
                if not path.exists():
                    _write_private(path, dump_keyring(generate_keyring()))
                _ring = parse_keyring(path.read_text())
        return _ring


def reset_keyring_cache() -> None:
    """Forget the loaded key ring (tests, rotation)."""
    global _ring
    with _lock:
        _ring = None


def rotate_keyring() -> KeyRing:
    """Add and activate new encryption and signing keys; return the new ring."""
    ring = load_keyring()
    enc_id = _new_key_id("e", ring.encryption.keys)
    sig_id = _new_key_id("s", ring.signing.keys)
    rotated = KeyRing(
        encryption=KeySet(active=enc_id, keys={**ring.encryption.keys, enc_id: secrets.token_bytes(_KEY_BYTES)}),
        signing=KeySet(active=sig_id, keys={**ring.signing.keys, sig_id: secrets.token_bytes(_KEY_BYTES)}),
    )
    if os.environ.get("AUDIT_KEYRING"):
        raise KeyRingError("the key ring comes from AUDIT_KEYRING: rotate it in the secret store, then restart")
    _write_private(keyring_path(), dump_keyring(rotated))
    reset_keyring_cache()
    return load_keyring()


def encrypt(plaintext: str | bytes, *, associated_data: bytes = b"") -> str:
    """Return ``plaintext`` sealed with the active key as ``"<key id>$<base64>"``."""
    ring = load_keyring()
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _cipher(ring.encryption.keys[ring.encryption.active]).encrypt(nonce, data, associated_data)
    return ring.encryption.active + _SEP + base64.b64encode(nonce + sealed).decode()


def _ring_with(purpose: str, key_id: str) -> KeyRing:
    # Another process may have rotated the ring since we loaded it: reload once before giving up.
    ring = load_keyring()
    if key_id not in getattr(ring, purpose).keys and not os.environ.get("AUDIT_KEYRING"):
        reset_keyring_cache()
        ring = load_keyring()
    return ring


_ciphers: dict[bytes, AESGCM] = {}


def _cipher(key: bytes) -> AESGCM:
    cipher = _ciphers.get(key)
    if cipher is None:
        cipher = _ciphers[key] = AESGCM(key)
    return cipher


def decrypt_bytes(token: str, *, associated_data: bytes = b"") -> bytes:
    """Return the plaintext bytes of a value sealed by :func:`encrypt`."""
    key_id, _, body = token.partition(_SEP)
    key = _ring_with("encryption", key_id).encryption.keys.get(key_id)
    if key is None:
        raise KeyRingError(f"no encryption key {key_id!r} in the key ring")
    try:
        raw = binascii.a2b_base64(body, strict_mode=True)
        return _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data)
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise KeyRingError(f"value sealed with key {key_id!r} does not decrypt (altered or wrong key)") from exc


def decrypt(token: str, *, associated_data: bytes = b"") -> str:
    """Return the plaintext text of a value sealed by :func:`encrypt`."""
    return decrypt_bytes(token, associated_data=associated_data).decode()


def key_id_of(token: str) -> str:
    """Return the id of the key that sealed ``token``."""
    return token.partition(_SEP)[0]


def sign(data: bytes) -> tuple[str, str]:
    """Return ``(key id, hex HMAC-SHA256)`` of ``data`` under the active signing key."""
    ring = load_keyring()
    key_id = ring.signing.active
    return key_id, hmac.digest(ring.signing.keys[key_id], data, "sha256").hex()


def verify_signature(data: bytes, *, key_id: str, signature: str) -> bool:
    """Return whether ``signature`` is the HMAC of ``data`` under signing key ``key_id``."""
    key = _ring_with("signing", key_id).signing.keys.get(key_id) if key_id else None
    if key is None:
        return False
    return hmac.compare_digest(hmac.digest(key, data, "sha256").hex(), signature)


# --- re-encryption on rotation -------------------------------------------
Reencryptor = Callable[[], int]
_reencryptors: dict[str, Reencryptor] = {}


def register_reencryptor(name: str, reencrypt: Reencryptor) -> None:
    """Register a callable that re-seals every stored value of one model; it returns the count."""
    _reencryptors[name] = reencrypt


def reencrypt_all() -> dict[str, int]:
    """Re-seal every registered model's values under the active key; return counts by name."""
    return {name: fn() for name, fn in sorted(_reencryptors.items())}
