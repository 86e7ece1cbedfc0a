"""The persisted log: gapless sequencing, stored subtree hashes, proofs from O(log n) stored nodes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import psycopg
import pytest

from liuhen.catalog.db import Catalog
from liuhen.integrity import log, proof, rfc6962, tree
from liuhen.integrity.events import Event
from liuhen.integrity.verify import verify_consistency, verify_inclusion


def ev(i: int, actor: str = "test") -> Event:
    return Event("access.view", actor, subject={"sha256": f"{i:064x}"}, data={"i": i})


def all_leaf_hashes(catalog: Catalog) -> list[bytes]:
    return [bytes(r["leaf_hash"]) for r in catalog.all("SELECT leaf_hash FROM log_events ORDER BY idx")]


def test_append_gives_gapless_indices_and_matching_root(catalog: Catalog) -> None:
    got = [log.append(catalog, ev(i)) for i in range(5)]
    got += log.append_many(catalog, [ev(i) for i in range(5, 23)])
    assert [idx for _, idx in got] == list(range(23))
    assert log.size(catalog) == 23
    hashes = all_leaf_hashes(catalog)
    assert [rfc6962.leaf_hash(log.leaf(catalog, i).body) for i in range(23)] == hashes
    for n in range(1, 24):
        assert log.root(catalog, n) == rfc6962.root(hashes[:n])


def test_record_in_caller_transaction_is_pending_until_sequenced(catalog: Catalog) -> None:
    with catalog.tx() as conn:
        eid = log.record(conn, ev(1))
    assert log.index_of(catalog, eid) is None and log.pending_count(catalog) == 1
    # a rolled-back caller transaction leaves nothing behind
    with pytest.raises(RuntimeError), catalog.tx() as conn:
        log.record(conn, ev(2))
        raise RuntimeError("caller failed")
    assert log.sequence(catalog) == 1
    assert log.index_of(catalog, eid) == 0 and log.pending_count(catalog) == 0


def test_sequencing_tx_commits_rows_events_and_indices_together(catalog: Catalog) -> None:
    """Events recorded and sequenced in the caller's transaction get their indices in it; the second
    sequence() continues from the transaction's own (uncommitted) frontier."""
    log.append_many(catalog, [ev(i) for i in range(3)])
    with log.sequencing_tx(catalog) as stx:
        a = log.record(stx.conn, ev(3))
        assert stx.try_sequence() and stx.state is not None and stx.state[0] == 4
        b = log.record(stx.conn, ev(4))
        assert stx.try_sequence() and stx.state[0] == 5
        assert stx.assigned == {a: 3, b: 4}
    assert (log.index_of(catalog, a), log.index_of(catalog, b)) == (3, 4) and log.pending_count(catalog) == 0
    hashes = all_leaf_hashes(catalog)
    assert log.root(catalog, 5) == rfc6962.root(hashes)


def test_a_rolled_back_sequencing_tx_leaves_no_gap_and_no_stale_frontier(catalog: Catalog) -> None:
    """A transaction that sequenced and then failed commits nothing; the next appends continue at the
    committed size, and their stored subtree hashes match a recomputation (the rolled-back frontier was
    never cached: had it been, this process would extend size 5 — reached by another process — from
    the rolled-back leaf's frontier)."""
    log.append_many(catalog, [ev(i) for i in range(4)])
    with pytest.raises(RuntimeError), log.sequencing_tx(catalog) as stx:
        log.record(stx.conn, ev(100))
        assert stx.try_sequence() and stx.state is not None and stx.state[0] == 5
        raise RuntimeError("caller failed after sequencing")
    assert log.size(catalog) == 4 and log.pending_count(catalog) == 0
    other = (
        "import sys; from liuhen.catalog.db import Catalog; from liuhen.integrity import log; "
        "from liuhen.integrity.events import Event; c = Catalog(sys.argv[1]).open(); "
        "print(log.append(c, Event('access.view', 'other', subject={'sha256': '4' * 64}))[1]); c.close()"
    )
    out = subprocess.run([sys.executable, "-c", other, catalog.url], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "4", out.stderr
    got = log.append_many(catalog, [ev(i) for i in range(5, 9)])
    assert [idx for _, idx in got] == list(range(5, 9))
    hashes = all_leaf_hashes(catalog)
    for n in range(1, 10):
        assert log.root(catalog, n) == rfc6962.root(hashes[:n])


def test_sequencing_tx_does_not_wait_for_a_busy_sequencer(catalog: Catalog) -> None:
    """While another transaction holds the sequencer, try_sequence() returns False at once; the events
    commit as pending and the next sequence() indexes them."""
    with catalog.tx() as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (log.SEQUENCER_LOCK,))
        with log.sequencing_tx(catalog) as stx:
            a = log.record(stx.conn, ev(1))
            t = time.perf_counter()
            assert not stx.try_sequence()
            assert time.perf_counter() - t < 1.0 and stx.state is None and stx.assigned == {}
    assert log.index_of(catalog, a) is None and log.pending_count(catalog) == 1
    assert log.sequence(catalog) == 1 and log.index_of(catalog, a) == 0


def test_await_sequenced_wakes_with_the_holders_commit_and_does_not_queue_for_the_lock(catalog: Catalog) -> None:
    """Waiters whose events the holder's run indexed wake at its commit and return without taking the
    lock themselves: while a third connection then holds the lock *shared* (which an exclusive taker
    would queue behind), both return at once. Events still pending get sequenced by a waiter."""
    with catalog.tx() as conn:
        a = log.record(conn, ev(1))
    with catalog.tx() as conn:
        b = log.record(conn, ev(2))
    got: dict[str, list[tuple[int, int]]] = {}
    with catalog.tx() as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (log.SEQUENCER_LOCK,))
        waiters = [
            threading.Thread(target=lambda k=k, ids=ids: got.__setitem__(k, log.await_sequenced(catalog, ids)))
            for k, ids in (("a", [a]), ("b", [b]))
        ]
        for w in waiters:
            w.start()
        time.sleep(0.3)
        assert not got, "a waiter returned while the sequencer was held"
        log._sequence_locked(holder, catalog.url, 5000)  # the holder's run indexes both
    for w in waiters:
        w.join(10)
    assert got == {"a": [(a, 0)], "b": [(b, 1)]}
    with catalog.tx() as shared:
        shared.execute("SELECT pg_advisory_xact_lock_shared(%s)", (log.SEQUENCER_LOCK,))
        again = threading.Thread(target=lambda: got.__setitem__("again", log.await_sequenced(catalog, [a, b])))
        again.start()
        again.join(5)
        assert not again.is_alive(), "await_sequenced queued for the lock although its events were indexed"
    assert got["again"] == [(a, 0), (b, 1)]
    with catalog.tx() as conn:
        c = log.record(conn, ev(3))
    assert log.await_sequenced(catalog, [c]) == [(c, 2)] and log.pending_count(catalog) == 0


def test_proofs_read_only_stored_nodes_and_verify(catalog: Catalog) -> None:
    log.append_many(catalog, [ev(i) for i in range(100)])
    hashes = all_leaf_hashes(catalog)
    nodes = catalog.one("SELECT count(*) AS n FROM log_nodes")
    assert nodes is not None and nodes["n"] == 100 - bin(100).count("1")  # every complete inner subtree
    for size in (1, 2, 3, 7, 8, 64, 99, 100):
        r = rfc6962.root(hashes[:size])
        for idx in {0, size // 2, size - 1}:
            p = proof.inclusion_proof(catalog, idx, size)
            assert p == rfc6962.inclusion_proof(hashes[:size], idx)
            verify_inclusion(hashes[idx], idx, size, p, r)
        for old in {1, size // 3 or 1, size}:
            c = proof.consistency_proof(catalog, old, size)
            assert c == rfc6962.consistency_proof(hashes[:size], old)
            verify_consistency(old, size, c, rfc6962.root(hashes[:old]), r)
    with pytest.raises(ValueError, match="beyond the log"):
        proof.inclusion_proof(catalog, 0, 101)
    with pytest.raises(ValueError):
        proof.inclusion_proof(catalog, 100, 100)
    with pytest.raises(ValueError):
        proof.consistency_proof(catalog, 0, 10)


def test_proof_reads_are_logarithmic_one_round_trip_each(catalog: Catalog) -> None:
    """Proof generation asks for O(log n) node hashes in one statement, never the leaf table as a whole."""
    log.append_many(catalog, [ev(i) for i in range(1000)])
    seen: list[int] = []
    real = tree.snapshot

    def spy(cat, nodes):  # type: ignore[no-untyped-def]
        nodes = list(nodes)
        seen.append(len(nodes))
        return real(cat, nodes)

    tree.snapshot = spy  # type: ignore[assignment]
    try:
        proof.inclusion_proof(catalog, 517, 1000, cached=False)
        proof.consistency_proof(catalog, 333, 1000, cached=False)
    finally:
        tree.snapshot = real  # type: ignore[assignment]
    assert len(seen) == 2 and max(seen) <= 2 * 10 + 2


def test_sequenced_leaves_are_append_only_in_sql(catalog: Catalog) -> None:
    log.append(catalog, ev(1))
    for sql in ("UPDATE log_events SET body = 'x'::bytea", "DELETE FROM log_events",
                "UPDATE log_events SET idx = 7", "TRUNCATE log_nodes"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"), catalog.tx() as conn:
            conn.execute(sql)


def test_concurrent_writers_threads_and_processes_gapless_nothing_lost(catalog: Catalog, pg_url: str) -> None:
    """8 threads + 2 processes write at once; every acknowledged event gets exactly one index."""
    import multiprocessing as mp

    acked: list[int] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(15):
            if i % 3 == 0:
                ids = [eid for eid, _ in log.append_many(catalog, [ev(w * 1000 + i + k) for k in range(4)])]
            elif i % 3 == 1:
                ids = [log.append(catalog, ev(w * 1000 + i))[0]]
            else:
                with catalog.tx() as conn:
                    ids = [log.record(conn, ev(w * 1000 + i))]
            with lock:
                acked.extend(ids)

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_proc_writer, args=(pg_url, p)) for p in range(2)]
    for p in procs:
        p.start()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    n = log.sequence(catalog)
    rows = catalog.all("SELECT id, idx FROM log_events ORDER BY idx")
    assert [r["idx"] for r in rows] == list(range(n))  # gapless
    assert n == len(acked) + 2 * 40
    assert set(acked) <= {r["id"] for r in rows}  # nothing acknowledged was lost
    hashes = all_leaf_hashes(catalog)
    assert log.root(catalog) == rfc6962.root(hashes)


def _proc_writer(url: str, p: int) -> None:
    cat = Catalog(url, max_size=2).open()
    try:
        for i in range(10):
            log.append_many(cat, [ev(50_000 + p * 100 + i * 4 + k, actor=f"proc{p}") for k in range(3)])
            log.append(cat, ev(60_000 + p * 100 + i, actor=f"proc{p}"))
    finally:
        cat.close()
