"""Ingest's one pass with the local store's staging writer: the store computes the SHA-256 while the
copy is written, ``put`` verifies against it without a second read, and other stores still verify by
reading the staging file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from liuhen.ingest import copy as _copy
from liuhen.ingest.offload import ingest_path
from liuhen.ingest.receipts import VERIFIED
from liuhen.storage.local import StagedFile
from liuhen.storage.memory import MemoryStore
from tests.ingest.helpers import make_recorder, named


def test_local_store_verifies_staged_copies_without_rereading(runtime, dock: Path, monkeypatch) -> None:
    files = make_recorder(dock / "p1", "DSJ-A-0001", n=3, size=3_000_000)
    store = runtime.store
    reread: list[object] = []
    puts: list[object] = []
    real_put = store.put
    monkeypatch.setattr(store, "_hash_linked", lambda tmp: reread.append(tmp))  # must not be reached
    monkeypatch.setattr(store, "_copy", lambda src, tmp: reread.append(src))

    def put(key, source, **kw):  # type: ignore[no-untyped-def]
        puts.append(source)
        return real_put(key, source, **kw)

    monkeypatch.setattr(store, "put", put)
    monkeypatch.setattr(_copy, "CHUNK", 1 << 20)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert r.safe_to_wipe and [f.status for f in r.files] == [VERIFIED] * 3
    assert reread == [] and len(puts) == 3 and all(isinstance(p, StagedFile) for p in puts)
    for f, src in zip(r.files, files, strict=True):
        data = src.read_bytes()
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        assert store.path_of(f.storage_key).read_bytes() == data
    assert list(runtime.settings.staging_dir.iterdir()) == []


def test_staged_digest_mismatch_fails_the_file_and_nothing_is_registered(runtime, dock: Path, monkeypatch) -> None:
    """If the staging file changes between seal and put, the store's re-hash refuses it; retried next pass."""
    clips = [(named("DSJ-A-0001", "110101", i), os.urandom(200_000)) for i in (1, 2)]
    make_recorder(dock / "p1", "DSJ-A-0001", files=clips)  # .MP4, so the quick probe looks at them
    real_probe = __import__("liuhen.ingest.offload", fromlist=["quick_probe"]).quick_probe
    hit: list[Path] = []

    def tamper(path: Path, *a, **k):  # type: ignore[no-untyped-def]
        if not hit:  # the first staged file is altered after it was sealed (as a rogue process could)
            hit.append(path)
            os.chmod(path, 0o644)
            with open(path, "r+b") as fh:
                first = fh.read(1)
                fh.seek(0)
                fh.write(bytes([first[0] ^ 0xFF]))
        return real_probe(path, *a, **k)

    monkeypatch.setattr("liuhen.ingest.offload.quick_probe", tamper)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert [f.status for f in r.files] == ["failed", VERIFIED]
    assert r.files[0].error.startswith("digest_mismatch"), r.files[0].error
    assert not r.safe_to_wipe
    assert runtime.catalog.one("SELECT count(*) AS n FROM files")["n"] == 1
    assert list(runtime.settings.staging_dir.iterdir()) == []
    monkeypatch.setattr("liuhen.ingest.offload.quick_probe", real_probe)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe


def test_other_stores_get_the_staging_path_and_verify_it(runtime, dock: Path) -> None:
    files = make_recorder(dock / "p1", "DSJ-A-0001", n=2)
    runtime.store = MemoryStore()
    (r,) = ingest_path(runtime, dock, actor="t")
    assert r.safe_to_wipe
    for f, src in zip(r.files, files, strict=True):
        assert b"".join(runtime.store.get(f.storage_key)) == src.read_bytes()
