"""Proof generation from the persisted tree: O(log n) stored hashes, no leaf scans.

Each call is at most one round trip to PostgreSQL (``tree.nodes_at``: one prepared autocommit
statement returns the tree size and the nodes together) and none when the log's ``NodeCache``
already holds every node. Pass ``cached=False`` to always read from the database.
"""

from __future__ import annotations

from liuhen.catalog.db import Catalog
from liuhen.integrity import rfc6962, tree


def inclusion_proof(catalog: Catalog, idx: int, size: int, *, cached: bool = True) -> list[bytes]:
    """PATH(idx, D[size]) (RFC 9162 §2.1.3.1), leaf sibling first."""
    ranges = rfc6962.inclusion_ranges(idx, size)
    return rfc6962.hashes_from_nodes(ranges, tree.nodes_at(catalog, size, rfc6962.nodes_for(ranges), cached=cached))


def consistency_proof(catalog: Catalog, old: int, new: int, *, cached: bool = True) -> list[bytes]:
    """PROOF(old, D[new]) (RFC 9162 §2.1.4.1). ``old`` must be ≥ 1 (nothing to prove from empty)."""
    ranges = rfc6962.consistency_ranges(old, new)
    return rfc6962.hashes_from_nodes(ranges, tree.nodes_at(catalog, new, rfc6962.nodes_for(ranges), cached=cached))


def inclusion_with_root(catalog: Catalog, idx: int, size: int, *, cached: bool = True) -> tuple[
    bytes, list[bytes], bytes
]:
    """(leaf hash, proof, root at ``size``) from one read."""
    ranges = rfc6962.inclusion_ranges(idx, size)
    front = rfc6962.perfect_subtrees(0, size)
    nodes = tree.nodes_at(catalog, size, [(0, idx), *rfc6962.nodes_for(ranges), *front], cached=cached)
    proof = rfc6962.hashes_from_nodes(ranges, nodes)
    return nodes[(0, idx)], proof, rfc6962.fold([nodes[n] for n in front])
