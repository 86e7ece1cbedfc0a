"""Retention policy on a real catalog: legal hold on link, and I4 — nothing
removes an original except disposal after retention expired with no legal hold and no active case
link, each disposal an audit event (Art. 13: ≥ 6 months; permanently when evidence)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from liuhen.cases.retention import dispose_expired, hold_for_link, release_hold
from liuhen.catalog.db import Catalog
from liuhen.core.config import Settings
from liuhen.storage.base import ObjectStore, key_for
from liuhen.storage.errors import ObjectLocked
from liuhen.storage.local import LocalStore

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


def _now() -> datetime:
    return datetime.now(UTC)


def _original(catalog: Catalog, store: ObjectStore, n: int, *, store_until: datetime, cat_until: datetime) -> str:
    data = f"original {n}".encode() * 100
    sha = hashlib.sha256(data).hexdigest()
    store.put(key_for(sha), io.BytesIO(data), sha256=sha, retain_until=store_until)
    with catalog.tx() as conn:
        conn.execute(
            "INSERT INTO files (sha256, size, storage_key, retention_until) VALUES (%s, %s, %s, %s)",
            (sha, len(data), key_for(sha), cat_until),
        )
    return sha


def _case(catalog: Catalog, case_no: str = "C-1") -> int:
    row = catalog.one(
        "INSERT INTO cases (case_no, agency, subject, case_type, created_by) "
        "VALUES (%s, 'agency', 'subject', 'penalty', 'tester') RETURNING id",
        (case_no,),
    )
    assert row is not None
    return int(row["id"])


def _link(catalog: Catalog, case_id: int, sha: str, *, unlinked: bool = False) -> int:
    row = catalog.one(
        "INSERT INTO links (case_id, stage, file_id, linked_by, unlinked_at, unlinked_by) "
        "SELECT %s, 'investigation', id, 'tester', %s, %s FROM files WHERE sha256 = %s RETURNING id",
        (case_id, _now() if unlinked else None, "tester" if unlinked else None, sha),
    )
    assert row is not None
    return int(row["id"])


def _events(catalog: Catalog, type_: str) -> list[dict[str, Any]]:
    return catalog.all("SELECT * FROM log_events WHERE type = %s ORDER BY id", (type_,))


def _hold(catalog: Catalog, store: ObjectStore, sha: str, case_no: str = "C-1") -> bool:
    with catalog.tx() as conn:
        row = conn.execute("SELECT * FROM files WHERE sha256 = %s FOR UPDATE", (sha,)).fetchone()
        assert row is not None
        return hold_for_link(conn, store, file=row, actor="officer", case_no=case_no)


def test_dispose_expired_removes_only_expired_unlinked_unheld(catalog: Catalog, settings: Settings) -> None:
    store = LocalStore(settings.store_dir)
    soon, past, far = _now() + timedelta(seconds=2), _now() - timedelta(seconds=1), _now() + timedelta(days=200)
    expired = _original(catalog, store, 1, store_until=soon, cat_until=past)
    unlinked_again = _original(catalog, store, 2, store_until=soon, cat_until=past)
    retained = _original(catalog, store, 3, store_until=far, cat_until=far)
    linked = _original(catalog, store, 4, store_until=soon, cat_until=past)
    store_held = _original(catalog, store, 5, store_until=soon, cat_until=past)
    store_longer = _original(catalog, store, 6, store_until=far, cat_until=past)  # catalog lags the store
    case_id = _case(catalog)
    _link(catalog, case_id, linked)
    _link(catalog, case_id, unlinked_again, unlinked=True)
    store.set_legal_hold(key_for(store_held), True)
    time.sleep(2.2)

    dry = dispose_expired(catalog, store, "retention-job", dry_run=True)
    assert sorted(dry.disposed) == sorted([expired, unlinked_again])
    assert store.exists(key_for(expired)) and not _events(catalog, "disposal")

    rep = dispose_expired(catalog, store, "retention-job")
    assert sorted(rep.disposed) == sorted([expired, unlinked_again])
    assert set(rep.skipped) == {store_held, store_longer}
    for sha in (expired, unlinked_again):
        assert not store.exists(key_for(sha))
    for sha in (retained, linked, store_held, store_longer):
        assert store.exists(key_for(sha))
    status = {r["sha256"]: r["status"] for r in catalog.all("SELECT sha256, status FROM files")}
    assert status[expired] == status[unlinked_again] == "disposed"
    assert {status[s] for s in (retained, linked, store_held, store_longer)} == {"stored"}
    events = _events(catalog, "disposal")
    assert sorted(e["subject_sha256"] for e in events) == sorted([expired, unlinked_again])
    assert all(e["actor"] == "retention-job" for e in events)
    # running again finds nothing new and writes no more events
    again = dispose_expired(catalog, store, "retention-job")
    assert again.disposed == [] and len(_events(catalog, "disposal")) == 2


def _release(catalog: Catalog, store: ObjectStore, sha: str) -> bool:
    with catalog.tx() as conn:
        return release_hold(conn, store, sha256=sha, actor="supervisor", reason="linked by mistake")


def test_unlink_keeps_the_hold_until_an_explicit_release(catalog: Catalog, settings: Settings) -> None:
    store = LocalStore(settings.store_dir)
    sha = _original(catalog, store, 7, store_until=_now() + timedelta(seconds=2), cat_until=_now())
    case_id = _case(catalog)
    l1 = _link(catalog, case_id, sha)
    assert _hold(catalog, store, sha) is True
    l2 = _link(catalog, case_id, sha)
    assert _hold(catalog, store, sha) is False
    assert store.head(key_for(sha)).legal_hold is True
    assert len(_events(catalog, "hold.set")) == 1
    time.sleep(2.2)  # retention expired, but the case link keeps it (evidence is kept permanently)
    assert dispose_expired(catalog, store, "job").disposed == []
    assert store.exists(key_for(sha))

    catalog.one("UPDATE links SET unlinked_at = now(), unlinked_by = 'x' WHERE id = %s RETURNING id", (l1,))
    with pytest.raises(ObjectLocked, match="still linked"):  # l2 still active
        _release(catalog, store, sha)
    catalog.one("UPDATE links SET unlinked_at = now(), unlinked_by = 'x' WHERE id = %s RETURNING id", (l2,))
    # no active link left: the hold still stands, and the disposal job keeps the object
    assert store.head(key_for(sha)).legal_hold is True
    assert dispose_expired(catalog, store, "job").disposed == [] and store.exists(key_for(sha))
    assert _release(catalog, store, sha) is True
    assert store.head(key_for(sha)).legal_hold is False
    assert [e["actor"] for e in _events(catalog, "hold.release")] == ["supervisor"]
    assert dispose_expired(catalog, store, "job").disposed == [sha]


def test_evidence_of_a_decided_case_is_never_released_or_disposed(catalog: Catalog, settings: Settings) -> None:
    store = LocalStore(settings.store_dir)
    soon, past = _now() + timedelta(seconds=2), _now() - timedelta(seconds=1)
    held = _original(catalog, store, 8, store_until=soon, cat_until=past)
    unheld = _original(catalog, store, 9, store_until=soon, cat_until=past)  # hold lost somehow
    case_id = _case(catalog, "C-DECIDED")
    _link(catalog, case_id, held, unlinked=True)
    _link(catalog, case_id, unheld, unlinked=True)
    _hold(catalog, store, held, "C-DECIDED")
    catalog.one("UPDATE cases SET stage = 'decision' WHERE id = %s RETURNING id", (case_id,))
    with pytest.raises(ObjectLocked, match="C-DECIDED"):
        _release(catalog, store, held)
    assert store.head(key_for(held)).legal_hold is True and not _events(catalog, "hold.release")
    time.sleep(2.2)
    rep = dispose_expired(catalog, store, "job")
    assert rep.disposed == [] and store.exists(key_for(held)) and store.exists(key_for(unheld))
    assert not _events(catalog, "disposal")


def test_an_original_missing_from_the_store_is_a_fixity_failure_not_a_disposal(
    catalog: Catalog, settings: Settings
) -> None:
    store = LocalStore(settings.store_dir)
    past = _now() - timedelta(days=1)
    data = b"never stored"
    sha = hashlib.sha256(data).hexdigest()
    with catalog.tx() as conn:  # catalogued, but the object is not in the store
        conn.execute(
            "INSERT INTO files (sha256, size, storage_key, retention_until) VALUES (%s, %s, %s, %s)",
            (sha, len(data), key_for(sha), past),
        )
    dry = dispose_expired(catalog, store, "job", dry_run=True)
    assert dry.missing == [sha] and dry.disposed == [] and not _events(catalog, "fixity.check")
    rep = dispose_expired(catalog, store, "job")
    assert rep.disposed == [] and rep.missing == [sha] and rep.ok is False
    assert rep.to_dict()["missing"] == [sha]
    assert not _events(catalog, "disposal")
    row = catalog.one("SELECT status FROM files WHERE sha256 = %s", (sha,))
    assert row is not None and row["status"] == "stored"
    (fix,) = _events(catalog, "fixity.check")
    assert fix["subject_sha256"] == sha and fix["actor"] == "job"
    data = json.loads(bytes(fix["body"]))["data"]
    assert data["outcome"] == "fail" and data["problems"] == ["original missing from store"], data


def test_nothing_else_calls_dispose() -> None:
    """I4 structurally: outside the stores themselves, only the disposal job (and the check's expired
    canaries) call ``.dispose(``."""
    allowed = {
        "storage/retention.py",
        "storage/check.py",
        "storage/local.py",
        "storage/memory.py",
        "storage/s3.py",
        "storage/base.py",
    }
    callers = []
    for pkg in ("liuhen", "catalog", "ingest", "integrity", "transcoder", "api", "storage"):
        for p in (ROOT / pkg).rglob("*.py"):
            rel = p.relative_to(ROOT).as_posix()
            if rel not in allowed and re.search(r"\.dispose\(", p.read_text(encoding="utf-8")):
                callers.append(rel)
    assert callers == []
