"""Staged writes to the local store: the store hashes a staging file while it is written, and ``put``
compares the expected digest with that one instead of reading the bytes again — still refusing a
mismatch, and falling back to a real re-hash whenever the token or the file is not what was sealed."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from pathlib import Path

import pytest

from liuhen.storage.base import key_for
from liuhen.storage.errors import DigestMismatch, ObjectNotFound
from liuhen.storage.local import LocalStore, StagedFile
from liuhen.storage.util import HashingWriter


def _digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _stage(store: LocalStore, data: bytes, *, chunk: int = 3 << 20, path: Path | None = None) -> StagedFile:
    w = store.open_staging(path)
    for i in range(0, len(data), chunk):
        w.write(data[i : i + chunk])
    return w.seal()


class _Reads:
    """Fails the test if the store reads a staged file's bytes (the second pass we removed)."""

    def __init__(self, store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        real_hash, real_copy = store._hash_linked, store._copy

        def hash_linked(tmp: Path) -> tuple[str, int]:
            self.n += 1
            return real_hash(tmp)

        def copy(src, tmp):  # type: ignore[no-untyped-def]
            self.n += 1
            return real_copy(src, tmp)

        monkeypatch.setattr(store, "_hash_linked", hash_linked)
        monkeypatch.setattr(store, "_copy", copy)


def _nothing_stored(store: LocalStore, key: str) -> None:
    with pytest.raises(ObjectNotFound):
        store.head(key)
    assert not store.journal_path(key).exists() or b'"create"' not in store.journal_path(key).read_bytes()
    assert list(store.tmp.iterdir()) == []


def test_staged_put_uses_the_stores_own_digest_without_rereading(tmp_path: Path, monkeypatch) -> None:
    store = LocalStore(tmp_path / "store")
    data = os.urandom(9 << 20) + b"tail"  # several write-behind windows plus a ragged end
    sf = _stage(store, data)
    assert (sf.sha256, sf.size) == (_digest(data), len(data))
    assert stat.S_IMODE(sf.path.stat().st_mode) == 0o444 and sf.path.parent == store.staging
    reads = _Reads(store, monkeypatch)
    info = store.put(key_for(sf.sha256), sf, sha256=_digest(data), size=len(data))
    assert reads.n == 0  # verified against the digest computed while writing, not by a second read
    final = store.path_of(info.key)
    assert final.stat().st_ino == sf.path.stat().st_ino and final.read_bytes() == data
    assert (info.sha256, info.size) == (_digest(data), len(data))
    assert list(store.tmp.iterdir()) == []


def test_staged_digest_mismatch_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    data = b"evidence" * 1000
    sf = _stage(store, data)
    wrong = _digest(b"other bytes")
    with pytest.raises(DigestMismatch):
        store.put(key_for(wrong), sf, sha256=wrong)
    _nothing_stored(store, key_for(wrong))
    with pytest.raises(DigestMismatch):  # right digest, wrong size
        store.put(key_for(sf.sha256), sf, sha256=sf.sha256, size=len(data) + 1)
    _nothing_stored(store, key_for(sf.sha256))
    assert sf.path.read_bytes() == data  # the staging file is the caller's to remove


def test_a_forged_token_cannot_claim_a_digest(tmp_path: Path, monkeypatch) -> None:
    """A StagedFile whose digest was edited is not this store's: put re-hashes and refuses."""
    store = LocalStore(tmp_path / "store")
    sf = _stage(store, b"real bytes")
    claim = _digest(b"what the caller would like stored")
    forged = dataclasses.replace(sf, sha256=claim)
    reads = _Reads(store, monkeypatch)
    with pytest.raises(DigestMismatch):
        store.put(key_for(claim), forged, sha256=claim)
    assert reads.n == 1
    _nothing_stored(store, key_for(claim))


def test_a_token_from_another_store_object_is_verified_by_reading(tmp_path: Path, monkeypatch) -> None:
    a = LocalStore(tmp_path / "store")
    b = LocalStore(tmp_path / "store", warn=False)
    data = b"x" * 70_000
    sf = _stage(a, data)
    reads = _Reads(b, monkeypatch)
    info = b.put(key_for(sf.sha256), sf, sha256=_digest(data))
    assert reads.n == 1 and info.sha256 == _digest(data)


@pytest.mark.parametrize("how", ["rewritten", "replaced", "made_writable"])
def test_staging_file_changed_after_sealing_is_caught(tmp_path: Path, monkeypatch, how: str) -> None:
    store = LocalStore(tmp_path / "store")
    data = b"A" * 100_000
    sf = _stage(store, data)
    p = sf.path
    if how == "rewritten":  # same inode and size, other bytes, read-only again: mtime differs
        os.chmod(p, 0o644)
        with open(p, "r+b") as f:
            f.write(b"B")
        os.chmod(p, 0o444)
        os.utime(p, ns=(sf.mtime_ns + 10**9, sf.mtime_ns + 10**9))
    elif how == "replaced":  # another file under the same name
        p.unlink()
        p.write_bytes(b"B" + data[1:])
        os.chmod(p, 0o444)
    else:  # writable again (it could be written at any moment): not trusted
        os.chmod(p, 0o644)
    reads = _Reads(store, monkeypatch)
    if how == "made_writable":  # bytes unchanged: the fallback re-hash accepts them
        info = store.put(key_for(sf.sha256), sf, sha256=sf.sha256)
        assert reads.n == 1 and store.path_of(info.key).read_bytes() == data
        return
    with pytest.raises(DigestMismatch):
        store.put(key_for(sf.sha256), sf, sha256=sf.sha256)
    assert reads.n == 1
    _nothing_stored(store, key_for(sf.sha256))


def test_staged_on_another_filesystem_is_copied_and_verified(tmp_path: Path, monkeypatch) -> None:
    shm = Path("/dev/shm")
    store = LocalStore(tmp_path / "store")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(store.root).st_dev:
        pytest.skip("needs /dev/shm on a filesystem other than the store's")
    data = os.urandom(300_000)
    target = shm / f"liuhen-test-{os.getpid()}-{id(data)}.part"
    try:
        sf = _stage(store, data, path=target)
        reads = _Reads(store, monkeypatch)
        info = store.put(key_for(sf.sha256), sf, sha256=_digest(data))
        assert reads.n == 1 and store.path_of(info.key).read_bytes() == data
        assert store.path_of(info.key).stat().st_ino != target.stat().st_ino
    finally:
        target.unlink(missing_ok=True)


def test_writer_is_exclusive_and_abort_removes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    w = store.open_staging()
    w.write(b"partial")
    with pytest.raises(FileExistsError):  # write-once: never opens an existing name
        HashingWriter(w.path)
    w.abort()
    w.abort()  # idempotent
    assert not w.path.exists()
    sealed = _stage(store, b"")  # zero bytes is a valid (empty) recording
    assert sealed.size == 0 and sealed.sha256 == _digest(b"")
    assert store.put(key_for(sealed.sha256), sealed, sha256=sealed.sha256).size == 0
