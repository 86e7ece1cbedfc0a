"""Fixity audits: re-hash originals via ObjectStore.get(), compare store vs catalog vs log."""

from __future__ import annotations

import hashlib
import io

import pytest

from liuhen.catalog.db import Catalog
from liuhen.integrity import fixity, hashing, log
from liuhen.integrity.errors import DigestUnavailable
from liuhen.integrity.events import Event
from liuhen.storage.base import key_for
from liuhen.storage.memory import MemoryStore


def _sm3(data: bytes) -> str | None:
    try:
        h = hashing.new("sm3")
    except DigestUnavailable:
        return None
    h.update(data)
    return str(h.hexdigest())


def _ingest(catalog: Catalog, store: MemoryStore, data: bytes) -> str:
    """What ingest does: store by digest, then one transaction: file row + pending ingestion event."""
    sha = hashlib.sha256(data).hexdigest()
    sm3 = _sm3(data)
    store.put(key_for(sha), io.BytesIO(data), sha256=sha)
    with catalog.tx() as conn:
        eid = log.record(conn, Event("ingestion", "ingest:test", subject={"sha256": sha},
                                     data={"size": len(data), "sm3": sm3}))
        conn.execute("INSERT INTO files (sha256, sm3, size, storage_key, ingest_event_id) VALUES (%s,%s,%s,%s,%s)",
                     (sha, sm3, len(data), key_for(sha), eid))
    return sha


@pytest.fixture
def stocked(catalog: Catalog) -> tuple[Catalog, MemoryStore, list[str]]:
    store = MemoryStore()
    shas = [_ingest(catalog, store, f"clip {i} ".encode() * (1000 + i)) for i in range(6)]
    log.sequence(catalog)
    return catalog, store, shas


def test_full_audit_passes_and_logs_one_event_per_file(stocked) -> None:  # type: ignore[no-untyped-def]
    catalog, store, shas = stocked
    rep = fixity.run(catalog, store, "auditor", mode="full")
    assert rep.ok and rep.checked == 6 and rep.bytes_hashed > 0
    events = [log.leaf(catalog, r.event_idx).event for r in rep.results]  # type: ignore[arg-type]
    assert {e.type for e in events} == {"fixity.check"}
    assert {e.subject["sha256"] for e in events} == set(shas)
    assert all(e.data["outcome"] == "pass" and "sm3" in e.data["computed"] for e in events)


def test_sampled_audit_checks_a_subset(stocked) -> None:  # type: ignore[no-untyped-def]
    catalog, store, _ = stocked
    rep = fixity.run(catalog, store, "auditor", mode="sample", sample=2, seed=1)
    assert rep.checked == 2 and rep.ok


def test_catalog_digest_edited_in_sql_is_detected(stocked) -> None:  # type: ignore[no-untyped-def]
    catalog, store, shas = stocked
    forged = "f" * 64
    with catalog.tx() as conn:
        conn.execute("UPDATE files SET sha256 = %s WHERE sha256 = %s", (forged, shas[2]))
    rep = fixity.run(catalog, store, "auditor")
    assert rep.failed == 1
    bad = next(r for r in rep.results if not r.ok)
    text = "\n".join(bad.problems)
    assert f"hashes to sha256 {shas[2]}, catalog says {forged}" in text  # store vs catalog
    assert f"sha256 differs from ingestion leaf 2: expected {shas[2]} (log), found {forged} (catalog)" in text
    ev = log.leaf(catalog, bad.event_idx).event  # type: ignore[arg-type]
    assert ev.data["outcome"] == "fail" and ev.data["problems"] == bad.problems


def test_size_edited_and_object_missing_are_detected(stocked) -> None:  # type: ignore[no-untyped-def]
    catalog, store, shas = stocked
    with catalog.tx() as conn:
        conn.execute("UPDATE files SET size = size + 1 WHERE sha256 = %s", (shas[0],))
    store._objs.pop(key_for(shas[1]))  # simulate loss behind the store's back (no API can do this)
    rep = fixity.run(catalog, store, "auditor")
    probs = {r.sha256: "\n".join(r.problems) for r in rep.results if not r.ok}
    assert "size differs from ingestion leaf 0" in probs[shas[0]] and "(log), found" in probs[shas[0]]
    assert "store: cannot read" in probs[shas[1]]


def test_sm3_available_or_clear_error() -> None:
    if _sm3(b"") is not None:
        # GB/T 32905-2016 appendix A example 1: SM3("abc")
        assert _sm3(b"abc") == (
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    else:
        with pytest.raises(DigestUnavailable, match="SM3 is not available"):
            hashing.new("sm3")
    with pytest.raises(DigestUnavailable, match="unknown digest"):
        hashing.new("md5")
