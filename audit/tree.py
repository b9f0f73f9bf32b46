"""The Merkle tree as the database holds it: stored nodes and entries' chain hashes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

from audit.merkle import TreeReader
from audit.models import AuditEntry, TreeNode

_NODE = TreeNode._meta.db_table
_ENTRY = AuditEntry._meta.db_table


def _nodes(keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    if not keys:
        return {}
    # One indexed probe per key (row values), rather than an OR the planner may turn into a scan.
    values = ", ".join(["(%s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT level, {connection.ops.quote_name('index')}, hash FROM {_NODE} "  # noqa: S608 — fixed names
            f"WHERE (level, {connection.ops.quote_name('index')}) IN (VALUES {values})",
            [part for key in keys for part in key],
        )
        return {(int(level), int(index)): bytes.fromhex(value) for level, index, value in cursor.fetchall()}


def _leaves(first: int, count: int) -> dict[int, str]:
    # Leaf i is the entry at seq i + 1; a proof reads one or two such blocks, so skip the ORM.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT seq, hash FROM {_ENTRY} WHERE seq >= %s AND seq <= %s",  # noqa: S608 — fixed names
            [first + 1, first + count],
        )
        return {int(seq) - 1: str(value) for seq, value in cursor.fetchall()}


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
