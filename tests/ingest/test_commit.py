"""The last batch and the receipt in one transaction (``ingest.commit``): all of it or none of it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from liuhen.catalog.errors import CatalogUnavailable
from liuhen.ingest import commit, receipts
from liuhen.ingest.offload import ingest_path
from liuhen.ingest.receipts import FAILED, VERIFIED, load_receipt
from liuhen.integrity.log import SEQUENCER_LOCK
from tests.ingest.helpers import make_recorder


def _counts(rt) -> dict[str, int]:  # type: ignore[no-untyped-def]
    row = rt.catalog.one(
        "SELECT (SELECT count(*) FROM files) AS files, "
        "(SELECT count(*) FROM log_events WHERE type = 'ingestion') AS ingestion, "
        "(SELECT count(*) FROM log_events WHERE type = 'receipt') AS receipts, "
        "(SELECT count(*) FROM log_events WHERE idx IS NULL) AS pending, "
        "(SELECT count(*) FROM log_events) AS events, (SELECT max(idx) FROM log_events) AS top"
    )
    return dict(row)


def test_one_commit_makes_rows_events_indices_and_the_receipt_durable(runtime, dock: Path, monkeypatch) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", n=3)
    monkeypatch.setattr(commit, "finalize", lambda *a: pytest.fail("the receipt was made step by step"))
    (r,) = ingest_path(runtime, dock, actor="t")
    assert r.safe_to_wipe and [f.status for f in r.files] == [VERIFIED] * 3
    assert all(f.log_index is not None for f in r.files) and r.receipt_log_index is not None
    c = _counts(runtime)
    assert (c["files"], c["ingestion"], c["receipts"], c["pending"]) == (3, 3, 1, 0)
    assert c["top"] == c["events"] - 1  # gapless
    stored = load_receipt(runtime, r.session_id)
    assert stored is not None and stored.body_sha256() == r.body_sha256()
    assert stored.receipt_log_index == r.receipt_log_index


def test_a_last_transaction_that_fails_after_sequencing_leaves_nothing_and_is_done_step_by_step(
    runtime, dock: Path, monkeypatch
) -> None:
    """Rows registered, events sequenced, receipt recorded — then the transaction fails: none of it is
    kept (no second ingestion event, no gap, no receipt), and the step-by-step way stores it once."""
    make_recorder(dock / "p1", "DSJ-A-0001", n=2)
    real = receipts.record_receipt
    calls: list[int] = []

    def fail_first(conn, receipt):  # type: ignore[no-untyped-def]
        calls.append(real(conn, receipt))  # recorded in the transaction, which then fails
        if len(calls) == 1:
            raise RuntimeError("the transaction failed after its receipt was recorded")
        return calls[-1]

    monkeypatch.setattr(commit, "record_receipt", fail_first)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert len(calls) == 1, "the fused transaction did not run"  # the fallback records via finalize
    assert r.safe_to_wipe and [f.status for f in r.files] == [VERIFIED, VERIFIED]
    c = _counts(runtime)
    assert (c["files"], c["ingestion"], c["receipts"], c["pending"]) == (2, 2, 1, 0)
    assert c["top"] == c["events"] - 1
    assert [f.log_index for f in r.files] == [0, 1] and r.receipt_log_index == 2


def test_catalog_gone_at_the_last_commit_is_not_safe_to_wipe_and_names_why(runtime, dock: Path, monkeypatch) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", n=2)

    def gone(catalog):  # type: ignore[no-untyped-def]
        raise CatalogUnavailable("PostgreSQL unavailable: the server went away")

    monkeypatch.setattr(commit, "sequencing_tx", gone)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert not r.safe_to_wipe and r.status == "incomplete"
    assert r.reasons[0].startswith("catalog_unavailable: cannot store the receipt")
    assert all(f.status == FAILED and f.error.startswith("catalog_unavailable") for f in r.files)
    assert _counts(runtime)["files"] == 0  # the objects are stored; their rows come with the next pass
    monkeypatch.undo()
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe and _counts(runtime)["files"] == 2


def test_with_the_sequencer_busy_the_batch_commits_pending_and_the_receipt_follows(
    runtime, dock: Path, monkeypatch
) -> None:
    """Another station holds the sequencer: the batch does not wait holding its rows — it commits with
    its events pending, sequences once the lock is free, and the receipt is made after that."""
    make_recorder(dock / "p1", "DSJ-A-0001", n=2)
    made: list[bool] = []
    real_finalize = commit.finalize

    def counting(rt, receipt, heads=None):  # type: ignore[no-untyped-def]
        made.append(True)
        return real_finalize(rt, receipt, heads)

    monkeypatch.setattr(commit, "finalize", counting)
    asked: list[str] = []
    real_head = runtime.store.head

    def head(key):  # type: ignore[no-untyped-def]
        asked.append(key)
        return real_head(key)

    monkeypatch.setattr(runtime.store, "head", head)
    locked, release = threading.Event(), threading.Event()

    def other_station() -> None:
        with runtime.catalog.tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEQUENCER_LOCK,))
            locked.set()
            release.wait(30)

    t = threading.Thread(target=other_station)
    t.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    (r,) = ingest_path(runtime, dock, actor="t")
    t.join(10)
    assert made == [True], "the receipt was not made the step-by-step way"
    assert len(asked) == len(set(asked)) == 2, f"the store was asked twice for an object: {asked}"
    assert r.safe_to_wipe and [f.log_index for f in r.files] == [0, 1] and r.receipt_log_index == 2
    c = _counts(runtime)
    assert (c["files"], c["ingestion"], c["receipts"], c["pending"]) == (2, 2, 1, 0)
