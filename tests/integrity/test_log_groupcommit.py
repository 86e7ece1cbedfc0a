"""Group commit: writers that find the sequencer busy commit as pending and are sequenced together."""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg.rows import dict_row

from liuhen.catalog.db import Catalog
from liuhen.integrity import log, rfc6962
from liuhen.integrity.events import Event


def ev(w: int, i: int) -> Event:
    return Event("access.view", f"w{w}", subject={"sha256": f"{w * 1000 + i:064x}"}, data={"w": w, "i": i})


def _wait_for(pred, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_busy_sequencer_writers_commit_pending_then_get_gapless_indices(catalog: Catalog, pg_url: str) -> None:
    """While another session holds the sequencer lock, 6 writers' events are already committed (I8)
    but not acknowledged; once it is released, one group run gives all of them distinct gapless indices,
    each batch in its own order."""
    log.append_many(catalog, [ev(99, i) for i in range(3)])  # a non-empty tree first
    results: dict[int, list[tuple[int, int]]] = {}
    errors: list[BaseException] = []
    blocker = psycopg.connect(pg_url)
    blocker.execute("SELECT pg_advisory_xact_lock(%s)", (log.SEQUENCER_LOCK,))

    def writer(w: int) -> None:
        try:
            results[w] = log.append_many(catalog, [ev(w, i) for i in range(5)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    try:
        # every writer's batch is durable (committed, visible to another session) before any returns
        _wait_for(lambda: log.pending_count(catalog) == 30)
        assert not results and all(t.is_alive() for t in threads)
        inbox = catalog.one("SELECT count(*) AS n FROM log_inbox")
        assert inbox is not None and inbox["n"] == 30  # committed in the inbox, not yet in the log
    finally:
        blocker.rollback()  # release the sequencer
        blocker.close()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    assert not errors, errors
    assert log.pending_count(catalog) == 0 and log.size(catalog) == 33
    assert catalog.one("SELECT count(*) AS n FROM log_inbox") == {"n": 0}  # moved, not copied
    got = [idx for w in range(6) for _, idx in results[w]]
    assert sorted(got) == list(range(3, 33))  # distinct and gapless
    for w, pairs in results.items():
        idxs = [idx for _, idx in pairs]
        assert idxs == sorted(idxs)  # the batch keeps its order
        for i, (eid, idx) in enumerate(pairs):
            leaf = log.leaf(catalog, idx)
            assert leaf.event_id == eid and leaf.event.data == {"w": w, "i": i}
            assert log.index_of(catalog, eid) == idx
    hashes = [bytes(r["leaf_hash"]) for r in catalog.all("SELECT leaf_hash FROM log_events ORDER BY idx")]
    assert log.root(catalog) == rfc6962.root(hashes)


def test_writer_alone_takes_the_fast_path(catalog: Catalog) -> None:
    """Uncontended, append_many inserts with indices directly: nothing is ever pending."""
    for k in range(4):
        pairs = log.append_many(catalog, [ev(k, i) for i in range(10)])
        assert [idx for _, idx in pairs] == list(range(10 * k, 10 * k + 10))
    assert log.append(catalog, ev(7, 0))[1] == 40
    row = catalog.one("SELECT count(*) AS n FROM log_events WHERE idx IS NULL")
    assert row is not None and row["n"] == 0


def test_many_threads_hammering_all_distinct_gapless(catalog: Catalog) -> None:
    """8 threads x 12 mixed appends with no coordination: every acknowledged index distinct, gapless."""
    acked: list[tuple[int, int]] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(12):
            pairs = log.append_many(catalog, [ev(w, i * 10 + k) for k in range(1 + i % 4)])
            with lock:
                acked.extend(pairs)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    n = log.size(catalog)
    assert sorted(idx for _, idx in acked) == list(range(n))
    assert len({eid for eid, _ in acked}) == n == 8 * sum(1 + i % 4 for i in range(12))
    assert log.pending_count(catalog) == 0


def test_record_and_inbox_events_are_sequenced_together_in_id_order(catalog: Catalog, pg_url: str) -> None:
    """Pending rows of both kinds (record() in log_events, busy append_many() in log_inbox) get indices in
    id order; moved inbox rows keep their id and creation time; a batch of 3 forces several rounds with
    both sources over the limit (the cut-off that keeps id order)."""
    seq = psycopg.connect(pg_url, row_factory=dict_row)
    seq.execute("SELECT pg_advisory_xact_lock(%s)", (log.SEQUENCER_LOCK,))
    out: list[list[tuple[int, int]]] = []
    recorded: list[int] = []
    threads: list[threading.Thread] = []

    def writer(k: int) -> None:
        out.append(log.append_many(catalog, [ev(60 + k, i) for i in range(4)]))

    try:
        for k in range(3):
            with catalog.tx() as conn:
                recorded.append(log.record(conn, ev(50, k)))
            threads.append(threading.Thread(target=writer, args=(k,)))
            threads[-1].start()
            _wait_for(lambda k=k: log.pending_count(catalog) == 5 * (k + 1))  # type: ignore[misc]
        inbox = {r["id"]: r["created_at"] for r in catalog.all("SELECT id, created_at FROM log_inbox")}
        size, _ = log._sequence_locked(seq, "test", 3)  # as the lock holder, 3 rows per round
        assert size == 15
        seq.commit()
    finally:
        seq.close()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    rows = catalog.all("SELECT id, idx, created_at FROM log_events ORDER BY idx")
    assert [r["idx"] for r in rows] == list(range(15))
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)  # id order across both sources
    assert len(inbox) == 12 and set(inbox) | set(recorded) == {r["id"] for r in rows}
    assert all(r["created_at"] == inbox[r["id"]] for r in rows if r["id"] in inbox)
    assert sorted(idx for batch in out for _, idx in batch) == [r["idx"] for r in rows if r["id"] in inbox]
    assert log.pending_count(catalog) == 0
    hashes = [bytes(r["leaf_hash"]) for r in catalog.all("SELECT leaf_hash FROM log_events ORDER BY idx")]
    assert log.root(catalog) == rfc6962.root(hashes)
