"""The Merkle tree over sealed entries (RFC 9162 hashing): append, roots, inclusion and consistency proofs.

Leaf ``i`` is the entry at seq ``i + 1``; its leaf hash is ``SHA-256(0x00 || chain hash)``, an
inner node is ``SHA-256(0x01 || left || right)``. The sealer keeps the right edge of the tree
(the "frontier": one perfect subtree per set bit of the size) and stores every perfect subtree of
``STORED_LEVEL`` or more leaves, so a proof needs a few stored nodes and at most one block of
leaves, however large the trail. Verifying a proof needs none of this: see
``scripts/audit_verify_receipt``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Perfect subtrees of 2**8 = 256 leaves and up are stored: about one node per 128 entries.
STORED_LEVEL = 8
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


class ProofUnavailable(Exception):
    """A subtree cannot be computed: its leaves were archived before their nodes were kept, or rows are missing."""


def leaf_hash(chain_hash: str) -> bytes:
    """Return the RFC 9162 leaf hash of an entry's chain hash."""
    return hashlib.sha256(b"\x00" + bytes.fromhex(chain_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(size: int) -> list[int]:
    """Return the levels of the frontier's subtrees of a tree of ``size`` leaves, left to right."""
    return [bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]


@dataclass(slots=True)
class Frontier:
    """The right edge of a tree: its size and the hash of each perfect subtree on it, left to right."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes, completed: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add a leaf hash; note each perfect subtree of ``STORED_LEVEL`` or more it completes."""
        node, level, index = leaf, 0, self.size
        while self.size >> level & 1:
            node = node_hash(self.hashes.pop(), node)
            level, index = level + 1, index >> 1
            if completed is not None and level >= STORED_LEVEL:
                completed.append((level, index, node))
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """Return the tree's root hash (the hash of the empty string for no leaves)."""
        if not self.hashes:
            return bytes.fromhex(EMPTY_ROOT)
        root = self.hashes[-1]
        for node in reversed(self.hashes[:-1]):
            root = node_hash(node, root)
        return root

    def well_formed(self) -> bool:
        """Return whether there is one hash per set bit of the size."""
        return len(self.hashes) == bin(self.size).count("1") and all(len(h) == 32 for h in self.hashes)

    def dump(self) -> str:
        """Return the frontier's hashes as text for the chain head row."""
        return ",".join(h.hex() for h in self.hashes)

    @classmethod
    def load(cls, size: int, text: str) -> Frontier:
        """Return the frontier stored by :meth:`dump` (possibly malformed: check :meth:`well_formed`)."""
        try:
            hashes = [bytes.fromhex(part) for part in text.split(",") if part]
        except ValueError:
            hashes = []
        return cls(size=size, hashes=hashes)


class TreeReader:
    """Compute subtree hashes from stored nodes and entries' chain hashes, caching what it read.

    ``nodes(keys)`` returns stored node hashes for ``(level, index)`` keys; ``leaves(first, count)``
    returns the chain hashes of leaves ``first..first+count-1`` that exist, by leaf index.
    """

    def __init__(
        self,
        *,
        nodes: Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]],
        leaves: Callable[[int, int], dict[int, str]],
    ) -> None:
        self._fetch_nodes, self._fetch_leaves = nodes, leaves
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._leaves: dict[int, bytes] = {}
        self._blocks: set[int] = set()
        self.computed: dict[tuple[int, int], bytes] = {}  # stored-level nodes that were missing

    def _leaf(self, index: int) -> bytes:
        block = index >> STORED_LEVEL
        if block not in self._blocks:
            self._blocks.add(block)
            found = self._fetch_leaves(block << STORED_LEVEL, 1 << STORED_LEVEL)
            self._leaves.update((i, leaf_hash(h)) for i, h in found.items())
        try:
            return self._leaves[index]
        except KeyError:
            raise ProofUnavailable(f"entry at seq {index + 1} is not in the table (archived or deleted)") from None

    def perfect(self, level: int, index: int) -> bytes:
        """Return the hash of the perfect subtree of ``2**level`` leaves starting at leaf ``index << level``."""
        key = (level, index)
        if key in self._nodes:
            return self._nodes[key]
        if level >= STORED_LEVEL:
            value = self._fetch_nodes([key]).get(key)
            if value is None:
                value = self.computed[key] = self._children(level, index)
        else:
            # Small subtrees come from their leaves; only where those were archived from the kept node.
            try:
                value = self._leaf(index) if level == 0 else self._children(level, index)
            except ProofUnavailable:
                stored = self._fetch_nodes([key]).get(key)
                if stored is None:
                    raise
                value = stored
        self._nodes[key] = value
        return value

    def _children(self, level: int, index: int) -> bytes:
        return node_hash(self.perfect(level - 1, 2 * index), self.perfect(level - 1, 2 * index + 1))

    def subtree(self, start: int, size: int) -> bytes:
        """Return MTH of leaves ``start..start+size-1`` as RFC 9162 splits them."""
        if size & (size - 1) == 0 and start % size == 0:
            return self.perfect(size.bit_length() - 1, start // size)
        split = 1 << ((size - 1).bit_length() - 1)  # the largest power of two below size
        return node_hash(self.subtree(start, split), self.subtree(start + split, size - split))

    def frontier(self, size: int) -> Frontier:
        """Return the frontier of the tree of ``size`` leaves."""
        hashes, start = [], 0
        for level in _levels(size):
            hashes.append(self.perfect(level, start >> level))
            start += 1 << level
        return Frontier(size=size, hashes=hashes)

    def prefetch(self, index: int, size: int) -> None:
        """Read in one query the stored nodes a proof about leaf ``index`` in a tree of ``size`` leaves may use."""
        keys = {(level, (index >> level) ^ 1) for level in range(STORED_LEVEL, size.bit_length())}
        start = 0
        for level in _levels(size):  # the right edge: the frontier's subtrees
            keys.add((level, start >> level))
            start += 1 << level
        wanted = [key for key in keys if key[0] >= STORED_LEVEL and key not in self._nodes]
        self._nodes.update(self._fetch_nodes(wanted))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Return the audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 PATH)."""
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
        self.prefetch(index, size)
        path: list[bytes] = []
        start = 0
        while size > 1:
            split = 1 << ((size - 1).bit_length() - 1)
            if index < split:
                path.append(self.subtree(start + split, size - split))
                size = split
            else:
                path.append(self.subtree(start, split))
                start, index, size = start + split, index - split, size - split
        path.reverse()  # PATH lists the sibling nearest the leaf first
        return path

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """Return the proof that the tree of ``first`` leaves is a prefix of the one of ``second`` (RFC 9162)."""
        if not 0 < first <= second:
            raise ValueError(f"no consistency proof from {first} to {second} leaves")
        self.prefetch(first - 1, second)
        self.prefetch(first - 1, first)
        proof: list[bytes] = []
        start, size, whole = 0, second, True
        while first != size:
            split = 1 << ((size - 1).bit_length() - 1)
            if first <= split:
                proof.append(self.subtree(start + split, size - split))
                size = split
            else:
                proof.append(self.subtree(start, split))
                start, first, size, whole = start + split, first - split, size - split, False
        if not whole:
            proof.append(self.subtree(start, size))
        proof.reverse()
        return proof
