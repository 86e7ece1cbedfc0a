"""One conformance suite for every backend (memory, local, S3 on moto, S3 on Ceph RGW).

Invariant I1 (an original's bytes never change; addressed by SHA-256) and I4 (nothing removes an
original except disposal after retention with no legal hold) — the rule "禁删改": storage must forbid
deletion and modification.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liuhen.storage.base import ObjectStore, key_for
from liuhen.storage.errors import DigestMismatch, InvalidRange, ObjectLocked, ObjectNotFound, RetentionViolation

pytestmark = pytest.mark.timeout(120)


def blob(n: int, seed: int = 0) -> tuple[bytes, str]:
    data = hashlib.shake_256(f"{seed}".encode()).digest(n) if n else b""
    return data, hashlib.sha256(data).hexdigest()


def read(store: ObjectStore, key: str, **kw: int | None) -> bytes:
    return b"".join(store.get(key, **kw))  # type: ignore[arg-type]


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_from_stream_round_trips_with_compliance_retention(store: ObjectStore) -> None:
    data, digest = blob(100_000, 1)
    info = store.put(key_for(digest), io.BytesIO(data), sha256=digest, size=len(data))
    assert (info.size, info.sha256, info.retention_mode) == (len(data), digest, "COMPLIANCE")
    assert info.retain_until is not None and info.retain_until > datetime.now(UTC) + timedelta(days=179)
    assert read(store, key_for(digest)) == data
    head = store.head(key_for(digest))
    assert (head.size, head.sha256, head.legal_hold) == (len(data), digest, False)
    assert store.exists(key_for(digest))


def test_put_from_path(store: ObjectStore, tmp_path: Path) -> None:
    data, digest = blob(12_345, 2)
    src = tmp_path / "staging.bin"
    src.write_bytes(data)
    store.put(key_for(digest), src, sha256=digest)
    assert read(store, key_for(digest)) == data


def test_empty_object(store: ObjectStore) -> None:
    data, digest = blob(0)
    store.put(key_for(digest), io.BytesIO(data), sha256=digest)
    assert store.head(key_for(digest)).size == 0
    assert read(store, key_for(digest)) == b""


def test_digest_mismatch_refused_and_nothing_stored(store: ObjectStore) -> None:
    data, _ = blob(5000, 3)
    _, other = blob(5000, 4)
    with pytest.raises(DigestMismatch):
        store.put(key_for(other), io.BytesIO(data), sha256=other)
    assert not store.exists(key_for(other))
    with pytest.raises(ObjectNotFound):
        store.head(key_for(other))


def test_size_mismatch_refused(store: ObjectStore) -> None:
    data, digest = blob(5000, 5)
    with pytest.raises(DigestMismatch):
        store.put(key_for(digest), io.BytesIO(data), sha256=digest, size=4999)
    assert not store.exists(key_for(digest))


def test_same_content_is_stored_once(store: ObjectStore) -> None:
    data, digest = blob(3000, 6)
    a = store.put(key_for(digest), io.BytesIO(data), sha256=digest)
    b = store.put(key_for(digest), io.BytesIO(data), sha256=digest)
    assert a.version == b.version
    assert [i.key for i in store.list(key_for(digest))] == [key_for(digest)]


def test_overwrite_with_other_bytes_refused(store: ObjectStore) -> None:
    data, digest = blob(3000, 7)
    other, other_digest = blob(3000, 8)
    key = f"canary/overwrite-{uuid.uuid4().hex}"
    store.put(key, io.BytesIO(data), sha256=digest)
    with pytest.raises(ObjectLocked):
        store.put(key, io.BytesIO(other), sha256=other_digest)
    assert read(store, key) == data
    assert store.head(key).sha256 == digest


def test_ranges(store: ObjectStore) -> None:
    data, digest = blob(10_000, 9)
    key = key_for(digest)
    store.put(key, io.BytesIO(data), sha256=digest)
    assert read(store, key, start=0, end=0) == data[:1]
    assert read(store, key, start=100, end=199) == data[100:200]
    assert read(store, key, start=9_990) == data[9_990:]
    assert read(store, key, start=9_000, end=50_000) == data[9_000:]
    with pytest.raises(InvalidRange):
        read(store, key, start=10_000)


def test_missing(store: ObjectStore) -> None:
    _, digest = blob(10, 10)
    assert not store.exists(key_for(digest))
    with pytest.raises(ObjectNotFound):
        store.head(key_for(digest))
    with pytest.raises(ObjectNotFound):
        read(store, key_for(digest))
    with pytest.raises(ObjectNotFound):
        store.dispose(key_for(digest))


def test_retention_only_extends(store: ObjectStore) -> None:
    data, digest = blob(2000, 11)
    key = key_for(digest)
    first = store.put(key, io.BytesIO(data), sha256=digest, retain_until=soon(3600))
    assert first.retain_until is not None
    later = first.retain_until + timedelta(days=1)
    assert store.extend_retention(key, later).retain_until == later
    with pytest.raises(RetentionViolation):
        store.extend_retention(key, first.retain_until)  # shortening
    with pytest.raises(RetentionViolation):
        store.extend_retention(key, datetime.now(UTC) - timedelta(days=1))  # the past
    assert store.head(key).retain_until == later
    # a second put asking for less keeps the longer retention
    assert store.put(key, io.BytesIO(data), sha256=digest, retain_until=soon(60)).retain_until == later


def test_retain_until_in_the_past_refused_at_put(store: ObjectStore) -> None:
    data, digest = blob(2000, 12)
    with pytest.raises(RetentionViolation):
        store.put(key_for(digest), io.BytesIO(data), sha256=digest, retain_until=soon(-60))
    assert not store.exists(key_for(digest))


def test_dispose_refused_while_retained(store: ObjectStore) -> None:
    data, digest = blob(2000, 13)
    store.put(key_for(digest), io.BytesIO(data), sha256=digest)
    with pytest.raises(ObjectLocked):
        store.dispose(key_for(digest))
    assert read(store, key_for(digest)) == data


def test_legal_hold_blocks_disposal_after_expiry_then_dispose(store: ObjectStore) -> None:
    data, digest = blob(2000, 14)
    key = key_for(digest)
    store.put(key, io.BytesIO(data), sha256=digest, retain_until=soon(2))
    assert store.set_legal_hold(key, True).legal_hold is True
    time.sleep(2.5)
    with pytest.raises(ObjectLocked):
        store.dispose(key)
    assert store.exists(key)
    assert store.set_legal_hold(key, False).legal_hold is False
    store.dispose(key)
    assert not store.exists(key)
    assert list(store.list(key)) == []


def test_list_prefix(store: ObjectStore) -> None:
    keys = []
    for i in range(3):
        data, digest = blob(100, 100 + i)
        store.put(key_for(digest), io.BytesIO(data), sha256=digest)
        keys.append(key_for(digest))
    listed = [i.key for i in store.list("sha256/")]
    assert sorted(keys) == sorted(k for k in listed if k in keys)
    assert [i.key for i in store.list(keys[0])] == [keys[0]]


def test_multipart_sized_object(store: ObjectStore, tmp_path: Path) -> None:
    """Larger than the S3 test threshold (5 MiB parts): per-part checksums + full-object SHA-256."""
    data = os.urandom(11 << 20)
    digest = hashlib.sha256(data).hexdigest()
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    info = store.put(key_for(digest), src, sha256=digest)
    assert (info.size, info.sha256, info.retention_mode) == (len(data), digest, "COMPLIANCE")
    assert info.retain_until is not None and info.retain_until > datetime.now(UTC) + timedelta(days=179)
    assert store.head(key_for(digest)).retain_until == info.retain_until
    assert hashlib.sha256(read(store, key_for(digest))).hexdigest() == digest
    bad = bytearray(data)
    bad[-1] ^= 1
    src2 = tmp_path / "big2.bin"
    src2.write_bytes(bytes(bad))
    _, wrong = blob(1, 999)
    with pytest.raises(DigestMismatch):
        store.put(key_for(wrong), src2, sha256=wrong)
    assert not store.exists(key_for(wrong))


def test_concurrent_identical_puts_store_once(store: ObjectStore) -> None:
    data, digest = blob(200_000, 15)
    out: list[object] = []

    def go() -> None:
        try:
            out.append(store.put(key_for(digest), io.BytesIO(data), sha256=digest).version)
        except Exception as exc:  # pragma: no cover - reported below
            out.append(exc)

    ts = [threading.Thread(target=go) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(isinstance(v, str) for v in out), out
    assert read(store, key_for(digest)) == data
