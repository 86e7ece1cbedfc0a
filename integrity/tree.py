"""The persisted Merkle tree: stored perfect-subtree hashes in PostgreSQL.

Level-0 hashes (leaves) live in ``log_events.leaf_hash``; every complete subtree of height ≥ 1 is one
row of ``log_nodes``. Reading a root or a proof fetches the O(log n) nodes named by the pure core
(``rfc6962.nodes_for``) in one query; appending writes the O(log n) nodes ``rfc6962.extend`` creates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from integrity import rfc6962
from integrity.errors import IntegrityError
from integrity.rfc6962 import Node

Conn = psycopg.Connection[Any]


class TreeCorrupt(IntegrityError):
    """A stored hash the tree needs is missing (the node table does not match the leaves)."""


def _val(row: Any, key: str, pos: int) -> Any:
    return row[key] if isinstance(row, dict) else row[pos]


def stored_size(conn: Conn) -> int:
    row = conn.execute("SELECT size FROM log_state").fetchone()
    return 0 if row is None else int(_val(row, "size", 0))


def fetch_nodes(conn: Conn, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """Hashes of the given perfect subtrees, in one round trip; ``TreeCorrupt`` if any is missing."""
    wanted = list(dict.fromkeys(nodes))
    leaves = [i for lvl, i in wanted if lvl == 0]
    inner = [(lvl, i) for lvl, i in wanted if lvl > 0]
    out: dict[Node, bytes] = {}
    if leaves or inner:
        rows = conn.execute(
            "SELECT 0 AS level, idx, leaf_hash AS hash FROM log_events WHERE idx = ANY(%s) "
            "UNION ALL "
            "SELECT n.level, n.idx, n.hash FROM log_nodes n "
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) "
            "ON n.level = w.level AND n.idx = w.idx",
            (leaves, [lv for lv, _ in inner], [i for _, i in inner]),
        ).fetchall()
        for r in rows:
            out[(int(_val(r, "level", 0)), int(_val(r, "idx", 1)))] = bytes(_val(r, "hash", 2))
    missing = [n for n in wanted if n not in out]
    if missing:
        raise TreeCorrupt(f"stored tree is missing subtree hashes {missing[:5]} (of {len(missing)})")
    return out


def frontier(conn: Conn, size: int) -> list[tuple[Node, bytes]]:
    """The compact range of ``[0, size)``: its perfect subtrees with their hashes, left to right."""
    nodes = rfc6962.perfect_subtrees(0, size)
    got = fetch_nodes(conn, nodes)
    return [(n, got[n]) for n in nodes]


def root_at(conn: Conn, size: int) -> bytes:
    """Root hash of the first ``size`` leaves (O(log n) stored hashes)."""
    return rfc6962.fold([h for _, h in frontier(conn, size)])


def range_hashes(conn: Conn, ranges: Sequence[rfc6962.Range]) -> list[bytes]:
    return rfc6962.hashes_from_nodes(ranges, fetch_nodes(conn, rfc6962.nodes_for(ranges)))


def store_nodes(conn: Conn, created: Sequence[tuple[Node, bytes]]) -> None:
    """Write the level ≥ 1 nodes of ``created`` (level 0 lives with the leaf row)."""
    inner = [(lvl, i, h) for (lvl, i), h in created if lvl > 0]
    if not inner:
        return
    with conn.cursor().copy("COPY log_nodes (level, idx, hash) FROM STDIN") as cp:
        for row in inner:
            cp.write_row(row)
