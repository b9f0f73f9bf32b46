"""Receipts and consistency proofs that an auditor checks with the public key alone."""

from __future__ import annotations

from typing import Any

from audit import chain
from audit.checkpoints import TreeHead, head_of_size, newest_head
from audit.exceptions import ProofNotAvailable
from audit.merkle import ProofUnavailable, leaf_hash
from audit.models import AuditEntry
from audit.services import head_read
from audit.tree import tree_reader
from core import keyring

RECEIPT_VERSION = 1


def public_key_document() -> dict[str, Any]:
    """Return the tree-head public keys by id, as ``scripts/audit_verify_receipt --public-key`` reads them."""
    return {"algorithm": "Ed25519", "purpose": "resync audit signed tree heads", "keys": keyring.tree_public_keys()}


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """Return every field the entry's chain hash covers (payload still encrypted), and the hash."""
    return {
        "seq": entry.seq,
        "timestamp": chain.format_timestamp(entry.timestamp),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "correlation_id": entry.correlation_id,
        "key_id": entry.key_id,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _signed_head(*, at_least: int) -> TreeHead:
    sealed, _ = head_read()
    head = newest_head(at_most=sealed)
    if head is None or head.size < at_least:
        raise ProofNotAvailable(f"no signed tree head covers seq {at_least} yet")
    return head


def receipt_build(*, seq: int) -> dict[str, Any]:
    """Return the receipt of the entry at ``seq``: the entry, its leaf hash, inclusion proof and signed tree head."""
    entry = AuditEntry.objects.filter(seq=seq).first()
    if entry is None:
        raise ProofNotAvailable(f"no sealed entry at seq {seq} in the live table (archived entries: see the archive)")
    head = _signed_head(at_least=seq)
    try:
        path = tree_reader().inclusion_proof(seq - 1, head.size)
    except ProofUnavailable as exc:
        raise ProofNotAvailable(f"no inclusion proof for seq {seq}: {exc}") from None
    return {
        "version": RECEIPT_VERSION,
        "entry": entry_document(entry),
        "leaf_index": seq - 1,
        "leaf_hash": leaf_hash(entry.hash).hex(),
        "inclusion_proof": [node.hex() for node in path],
        "tree_head": head.document(),
    }


def consistency_build(*, first: int, second: int | None = None) -> dict[str, Any]:
    """Return the proof that the signed tree of ``first`` entries is a prefix of ``second``'s (or the newest)."""
    later = head_of_size(second) if second is not None else _signed_head(at_least=first)
    if later is None:
        raise ProofNotAvailable(f"no signed tree head of size {second} in the checkpoint store")
    if not 0 < first <= later.size:
        raise ProofNotAvailable(f"first ({first}) must be between 1 and the second tree's size ({later.size})")
    earlier = head_of_size(first)
    try:
        proof = tree_reader().consistency_proof(first, later.size)
    except ProofUnavailable as exc:
        raise ProofNotAvailable(f"no consistency proof from {first} to {later.size}: {exc}") from None
    return {
        "version": RECEIPT_VERSION,
        "first_size": first,
        "second_size": later.size,
        "first": earlier.document() if earlier is not None else None,
        "second": later.document(),
        "proof": [node.hex() for node in proof],
    }
