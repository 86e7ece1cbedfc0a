"""Proof generation from the persisted tree: O(log n) stored hashes, one query, no leaf scans."""

from __future__ import annotations

from catalog.db import Catalog
from integrity import rfc6962, tree


def _check_size(conn: object, size: int) -> None:
    current = tree.stored_size(conn)  # type: ignore[arg-type]
    if size > current:
        raise ValueError(f"tree size {size} is beyond the log (size {current})")


def inclusion_proof(catalog: Catalog, idx: int, size: int) -> list[bytes]:
    """PATH(idx, D[size]) (RFC 9162 §2.1.3.1), leaf sibling first."""
    ranges = rfc6962.inclusion_ranges(idx, size)
    with catalog.tx() as conn:
        _check_size(conn, size)
        return tree.range_hashes(conn, ranges)


def consistency_proof(catalog: Catalog, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]) (RFC 9162 §2.1.4.1). ``old`` must be ≥ 1 (nothing to prove from empty)."""
    ranges = rfc6962.consistency_ranges(old, new)
    with catalog.tx() as conn:
        _check_size(conn, new)
        return tree.range_hashes(conn, ranges)


def inclusion_with_root(catalog: Catalog, idx: int, size: int) -> tuple[bytes, list[bytes], bytes]:
    """(leaf hash, proof, root at ``size``) in one transaction."""
    ranges = rfc6962.inclusion_ranges(idx, size)
    front = rfc6962.perfect_subtrees(0, size)
    with catalog.tx() as conn:
        _check_size(conn, size)
        nodes = tree.fetch_nodes(conn, [(0, idx), *rfc6962.nodes_for(ranges), *front])
    proof = rfc6962.hashes_from_nodes(ranges, nodes)
    return nodes[(0, idx)], proof, rfc6962.fold([nodes[n] for n in front])
