"""The Merkle tree as the database holds it: stored nodes and entries' chain hashes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q

from audit.merkle import TreeReader
from audit.models import AuditEntry, TreeNode


def _nodes(keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    if not keys:
        return {}
    query = Q()
    for level, index in keys:
        query |= Q(level=level, index=index)
    return {
        (level, index): bytes.fromhex(value)
        for level, index, value in TreeNode.objects.filter(query).values_list("level", "index", "hash")
    }


def _leaves(first: int, count: int) -> dict[int, str]:
    # Leaf i is the entry at seq i + 1.
    rows = AuditEntry.objects.filter(seq__gte=first + 1, seq__lte=first + count).values_list("seq", "hash")
    return {seq - 1: value for seq, value in rows if seq is not None}


def tree_reader() -> TreeReader:
    """Return a reader of the stored tree (one per proof or repair: it caches what it read)."""
    return TreeReader(nodes=_nodes, leaves=_leaves)


def nodes_store(nodes: Iterable[tuple[int, int, bytes]]) -> None:
    """Keep perfect subtrees; a node already stored stays as it was (verification compares them)."""
    rows = [TreeNode(level=level, index=index, hash=value.hex()) for level, index, value in nodes]
    if rows:
        TreeNode.objects.bulk_create(rows, ignore_conflicts=True)


def stored_nodes() -> dict[tuple[int, int], str]:
    """Return every stored node (about one per 128 entries), for verification to compare."""
    return {(level, index): value for level, index, value in TreeNode.objects.values_list("level", "index", "hash")}
