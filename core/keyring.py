"""The project's one key ring: encryption (AES-GCM), signing and pending-row (HMAC-SHA256), tree-head (Ed25519) keys.

Every secret at rest (ETL credentials, the TWS password, audit payloads) is
sealed here. A sealed value names the key that sealed it, so rotation adds a
key without breaking what was sealed before. Keys come from the environment
(``AUDIT_KEYRING`` holding the JSON document below) in production, and from
``var/keys/keyring.json`` (created once, mode 0600) in the embedded default::

    {"encryption": {"active": "e1", "keys": {"e1": "<base64 32 bytes>"}},
     "signing":    {"active": "s1", "keys": {"s1": "<base64 32 bytes>"}},
     "pending":    {"active": "m1", "keys": {"m1": "<base64 32 bytes>"}},
     "tree":       {"active": "t1", "keys": {"t1": "<base64 32-byte Ed25519 private key>"}}}

``pending`` authenticates rows written but not yet sealed; ``tree`` signs tree heads that an
auditor checks with the public key alone. A ring written before they existed gets them added
on load (embedded) or is refused at start-up with a message (``AUDIT_KEYRING``).
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
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
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
    pending: KeySet | None = None
    tree: KeySet | None = None

    def __repr__(self) -> str:
        return (
            f"KeyRing(encryption={self.encryption!r}, signing={self.signing!r}, "
            f"pending={self.pending!r}, tree={self.tree!r})"
        )


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
    optional = {name: _decode_set(doc[name], name) if name in doc else None for name in _OPTIONAL}
    return KeyRing(
        encryption=_decode_set(doc.get("encryption"), "encryption"),
        signing=_decode_set(doc.get("signing"), "signing"),
        **optional,
    )


# Key sets added after the first rings were written; (purpose, id prefix).
_OPTIONAL = {"pending": "m", "tree": "t"}


def dump_keyring(ring: KeyRing) -> str:
    """Return the JSON document for ``ring`` (key material included: handle with care)."""

    def encode(keyset: KeySet) -> dict[str, object]:
        return {"active": keyset.active, "keys": {k: base64.b64encode(v).decode() for k, v in keyset.keys.items()}}

    doc = {"encryption": encode(ring.encryption), "signing": encode(ring.signing)}
    for name in _OPTIONAL:
        keyset = getattr(ring, name)
        if keyset is not None:
            doc[name] = encode(keyset)
    return json.dumps(doc, indent=2)


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
        pending=KeySet(active="m1", keys={"m1": secrets.token_bytes(_KEY_BYTES)}),
        tree=KeySet(active="t1", keys={"t1": secrets.token_bytes(_KEY_BYTES)}),
    )


def _completed(ring: KeyRing) -> KeyRing:
    """Return ``ring`` with a first key for each purpose it lacks."""
    added = {
        name: KeySet(active=f"{prefix}1", keys={f"{prefix}1": secrets.token_bytes(_KEY_BYTES)})
        for name, prefix in _OPTIONAL.items()
        if getattr(ring, name) is None
    }
    return replace(ring, **added) if added else ring


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
                ring = parse_keyring(path.read_text())
                completed = _completed(ring)
                if completed is not ring:  # a ring from before the pending and tree keys
                    _write_private(path, dump_keyring(completed))
                _ring = completed
        return _ring


def reset_keyring_cache() -> None:
    """Forget the loaded key ring (tests, rotation)."""
    global _ring
    with _lock:
        _ring = None


def rotate_keyring() -> KeyRing:
    """Add and activate new keys of every purpose; return the new ring."""
    ring = _completed(load_keyring())

    def rotated_set(keyset: KeySet | None, prefix: str) -> KeySet:
        keys = keyset.keys if keyset is not None else {}
        new_id = _new_key_id(prefix, keys)
        return KeySet(active=new_id, keys={**keys, new_id: secrets.token_bytes(_KEY_BYTES)})

    rotated = KeyRing(
        encryption=rotated_set(ring.encryption, "e"),
        signing=rotated_set(ring.signing, "s"),
        pending=rotated_set(ring.pending, "m"),
        tree=rotated_set(ring.tree, "t"),
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
    keyset = getattr(ring, purpose)
    if (keyset is None or key_id not in keyset.keys) and not os.environ.get("AUDIT_KEYRING"):
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


def _keyset(ring: KeyRing, purpose: str) -> KeySet:
    keyset = getattr(ring, purpose)
    if keyset is None:
        raise KeyRingError(f"key ring has no '{purpose}' keys: add them to AUDIT_KEYRING (see docs/audit.md)")
    return keyset


def missing_purposes() -> list[str]:
    """Return the key purposes the loaded ring lacks (checked at start-up)."""
    ring = load_keyring()
    return [name for name in _OPTIONAL if getattr(ring, name) is None]


def pending_mac(data: bytes) -> str:
    """Return ``"<key id>$<hex HMAC-SHA256>"`` of ``data`` under the active pending-row key."""
    keyset = _keyset(load_keyring(), "pending")
    return keyset.active + _SEP + hmac.digest(keyset.keys[keyset.active], data, "sha256").hex()


def pending_mac_valid(data: bytes, mac: str) -> bool:
    """Return whether ``mac`` (from :func:`pending_mac`) authenticates ``data``."""
    key_id, _, digest = mac.partition(_SEP)
    ring = _ring_with("pending", key_id)
    key = ring.pending.keys.get(key_id) if ring.pending is not None else None
    if key is None:
        return False
    return hmac.compare_digest(hmac.digest(key, data, "sha256").hex(), digest)


def tree_sign(data: bytes) -> tuple[str, str]:
    """Return ``(key id, base64 Ed25519 signature)`` of ``data`` under the active tree-head key."""
    keyset = _keyset(load_keyring(), "tree")
    private = Ed25519PrivateKey.from_private_bytes(keyset.keys[keyset.active])
    return keyset.active, base64.b64encode(private.sign(data)).decode()


_public: dict[bytes, Ed25519PublicKey] = {}


def _public_key(private: bytes) -> Ed25519PublicKey:
    public = _public.get(private)
    if public is None:
        public = _public[private] = Ed25519PrivateKey.from_private_bytes(private).public_key()
    return public


def tree_public_keys() -> dict[str, str]:
    """Return the base64 raw Ed25519 public key of every tree-head key by id (safe to publish)."""
    keyset = _keyset(load_keyring(), "tree")
    return {
        key_id: base64.b64encode(_public_key(raw).public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        for key_id, raw in sorted(keyset.keys.items())
    }


def tree_signature_valid(data: bytes, *, key_id: str, signature: str) -> bool:
    """Return whether ``signature`` is the tree-head key ``key_id``'s Ed25519 signature of ``data``."""
    ring = _ring_with("tree", key_id)
    private = ring.tree.keys.get(key_id) if ring.tree is not None else None
    if private is None:
        return False
    try:
        _public_key(private).verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# --- re-encryption on rotation -------------------------------------------
Reencryptor = Callable[[], int]
_reencryptors: dict[str, Reencryptor] = {}


def register_reencryptor(name: str, reencrypt: Reencryptor) -> None:
    """Register a callable that re-seals every stored value of one model; it returns the count."""
    _reencryptors[name] = reencrypt


def reencrypt_all() -> dict[str, int]:
    """Re-seal every registered model's values under the active key; return counts by name."""
    return {name: fn() for name, fn in sorted(_reencryptors.items())}
