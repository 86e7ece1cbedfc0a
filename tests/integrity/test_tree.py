"""The proof read path: one statement per proof, and the in-process cache of immutable nodes."""

from __future__ import annotations

import pytest

from liuhen.catalog.db import Catalog
from liuhen.integrity import log, proof, rfc6962, tree
from liuhen.integrity.events import Event
from liuhen.integrity.verify import verify_consistency, verify_inclusion


def ev(i: int) -> Event:
    return Event("access.view", "test", subject={"sha256": f"{i:064x}"}, data={"i": i})


def leaf_hashes(catalog: Catalog) -> list[bytes]:
    return [bytes(r["leaf_hash"]) for r in catalog.all("SELECT leaf_hash FROM log_events ORDER BY idx")]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts database reads made by the proof path."""
    calls: list[int] = []
    real = tree.snapshot

    def spy(cat, nodes):  # type: ignore[no-untyped-def]
        calls.append(len(nodes))
        return real(cat, nodes)

    monkeypatch.setattr(tree, "snapshot", spy)
    return calls


def test_cached_proofs_stay_correct_while_the_log_grows(catalog: Catalog, reads: list[int]) -> None:
    """Proofs from a warm cache equal the reference at every size as the tree grows (odd sizes make
    right-edge ranges that are not stored nodes; those must never be cached as if complete)."""
    sizes = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    have = 0
    for size in sizes:
        log.append_many(catalog, [ev(i) for i in range(have, size)])
        have = size
        hashes = leaf_hashes(catalog)
        for s in range(1, size + 1):
            root = rfc6962.root(hashes[:s])
            assert log.root(catalog, s) == root
            for idx in {0, s // 2, s - 1}:
                p = proof.inclusion_proof(catalog, idx, s)
                assert p == rfc6962.inclusion_proof(hashes[:s], idx)
                verify_inclusion(hashes[idx], idx, s, p, root)
            for old in {1, s // 2 or 1, s}:
                c = proof.consistency_proof(catalog, old, s)
                assert c == rfc6962.consistency_proof(hashes[:s], old)
                verify_consistency(old, s, c, rfc6962.root(hashes[:old]), root)
    assert tree.node_cache(catalog).hits > 0  # the cache really served some of these


def test_warm_proof_makes_no_round_trip_cold_makes_exactly_one(catalog: Catalog, reads: list[int]) -> None:
    log.append_many(catalog, [ev(i) for i in range(300)])
    tree.node_cache(catalog).clear()
    first = proof.inclusion_proof(catalog, 123, 300)
    assert len(reads) == 1
    assert proof.inclusion_proof(catalog, 123, 300) == first and len(reads) == 1  # warm: no read
    assert proof.inclusion_proof(catalog, 123, 300, cached=False) == first and len(reads) == 2  # cold: one
    _, p, root = proof.inclusion_with_root(catalog, 123, 300)
    assert p == first and root == log.root(catalog, 300)


def test_cache_never_vouches_for_a_size_the_log_has_not_reached(catalog: Catalog, reads: list[int]) -> None:
    log.append_many(catalog, [ev(i) for i in range(16)])
    proof.inclusion_proof(catalog, 3, 16)
    n = len(reads)
    with pytest.raises(ValueError, match="beyond the log"):
        proof.inclusion_proof(catalog, 3, 17)  # asks the database: size 17 > known 16
    assert len(reads) == n + 1
    with pytest.raises(ValueError, match="beyond the log"):
        log.root(catalog, 17)
    log.append(catalog, ev(16))  # now 17 exists
    hashes = leaf_hashes(catalog)
    assert proof.inclusion_proof(catalog, 3, 17) == rfc6962.inclusion_proof(hashes, 3)
    assert log.size(catalog) == 17 and log.root(catalog) == rfc6962.root(hashes)


def test_cache_is_per_catalog_and_bounded(catalog: Catalog, pg_url: str) -> None:
    log.append_many(catalog, [ev(i) for i in range(64)])
    c = tree.node_cache(catalog)
    c.capacity = 8
    for i in range(64):
        proof.inclusion_proof(catalog, i, 64)
    assert len(c) <= 8
    other = Catalog(pg_url, max_size=1).open()
    try:
        assert tree.node_cache(other) is not c and len(tree.node_cache(other)) == 0
        assert proof.inclusion_proof(other, 5, 64) == proof.inclusion_proof(catalog, 5, 64)
    finally:
        other.close()


def test_missing_stored_node_is_reported_not_cached(catalog: Catalog) -> None:
    """A node table that lost a row (triggers disabled) makes the cold read fail loudly."""
    log.append_many(catalog, [ev(i) for i in range(8)])
    tree.node_cache(catalog).clear()
    with catalog.tx() as conn:
        conn.execute("ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_append_only")
        conn.execute("DELETE FROM log_nodes WHERE level = 2 AND idx = 1")
        conn.execute("ALTER TABLE log_nodes ENABLE TRIGGER log_nodes_append_only")
    with pytest.raises(tree.TreeCorrupt, match="missing"):
        proof.inclusion_proof(catalog, 0, 8)
    assert (2, 1) not in tree.node_cache(catalog).lookup([(2, 1)])[0]
