"""Bad input and faults: each gets a specific error in the receipt; nothing half-registered; retried next pass."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from pathlib import Path

import pytest

from liuhen.catalog.db import Catalog
from liuhen.catalog.errors import CatalogUnavailable
from liuhen.ingest import copy as _copy
from liuhen.ingest import offload, register
from liuhen.ingest.offload import ingest_path
from liuhen.ingest.receipts import FAILED, REJECTED, SKIPPED, VERIFIED
from liuhen.storage.errors import StoreUnavailable
from tests.ingest.helpers import make_recorder, named


def _files_rows(rt) -> int:
    return rt.catalog.one("SELECT count(*) AS n FROM files")["n"]


def _no_staging_left(rt) -> None:
    assert [p.name for p in rt.settings.staging_dir.iterdir()] == []


def test_zero_byte_file_stored_and_flagged(runtime, dock: Path) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", files=[(named("DSJ-A-0001", "110101", 1), b"")])
    (r,) = ingest_path(runtime, dock, actor="t")
    (f,) = r.files
    assert f.status == VERIFIED and f.size == 0 and "zero_byte" in f.flags
    assert f.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_hostile_names_ingested_with_safe_display_and_raw_bytes(runtime, dock: Path) -> None:
    port = dock / "p1"
    make_recorder(port, "DSJ-A-0001", n=1)
    media = os.fsencode(port / "DCIM" / "100MEDIA")
    raws = [b"bad\x01ctl\x1b[31m.MP4", b"\xff\xfe-latin\xe9.MP4", b"..\\..\\evil.MP4", b"ok\nnewline.MP4"]
    for i, raw in enumerate(raws):
        with open(os.path.join(media, raw), "wb") as fh:
            fh.write(os.urandom(100 + i))
    (r,) = ingest_path(runtime, dock, actor="t")
    assert r.safe_to_wipe, r.reasons
    by_raw = {bytes.fromhex(f.raw_path_hex): f for f in r.files if f.raw_path_hex}
    for f in r.files:
        assert all(ord(c) >= 32 and c != "\x7f" for c in f.path), f.path  # printable
    ctl = by_raw[b"DCIM/100MEDIA/bad\x01ctl\x1b[31m.MP4"]
    assert "control_chars_in_name" in ctl.flags and "\\x01" in ctl.path
    assert "non_utf8_name" in by_raw[b"DCIM/100MEDIA/\xff\xfe-latin\xe9.MP4"].flags
    trav = next(f for f in r.files if "evil" in f.path)
    assert "path_traversal_name" in trav.flags and trav.status == VERIFIED
    # stored content is the file's content, under its digest, not under any name
    for raw, f in by_raw.items():
        with open(os.path.join(os.fsencode(port), raw), "rb") as fh:
            assert b"".join(runtime.store.get(f.storage_key)) == fh.read()
    _no_staging_left(runtime)


def test_symlinks_not_followed(runtime, dock: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.MP4"
    secret.write_bytes(b"not the recorder's" * 100)
    port = dock / "p1"
    (inside,) = make_recorder(port, "DSJ-A-0001", n=1)
    media = port / "DCIM" / "100MEDIA"
    outside = named("DSJ-A-0001", "110101", 7)  # once: the name carries the time of the call
    (media / outside).symlink_to(secret)
    (media / "link-inside.MP4").symlink_to(inside.name)
    (media / "escape").symlink_to("../../..")
    (r,) = ingest_path(runtime, dock, actor="t")
    by = {Path(f.path).name: f for f in r.files}
    out = by[outside]
    assert out.status == REJECTED and out.error.startswith("symlink_outside") and out.sha256 is None
    assert by["link-inside.MP4"].status == SKIPPED
    assert by["escape"].status == REJECTED
    assert by[inside.name].status == VERIFIED
    assert _files_rows(runtime) == 1  # the outside file's bytes were never read or stored
    assert not r.safe_to_wipe and any("symlink_outside" in why for why in r.reasons)


def test_fifo_is_not_a_regular_file(runtime, dock: Path) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", n=1)
    os.mkfifo(dock / "p1" / "DCIM" / "100MEDIA" / "pipe.MP4")
    (r,) = ingest_path(runtime, dock, actor="t")
    f = next(f for f in r.files if f.path.endswith("pipe.MP4"))
    assert f.status == REJECTED and f.error.startswith("not_regular_file")


def test_unreadable_file_fails_alone_and_is_retried(runtime, dock: Path, monkeypatch) -> None:
    files = make_recorder(dock / "p1", "DSJ-A-0001", n=3)
    bad = os.fsencode(files[1].resolve())
    real = _copy.open_source

    def flaky(path: bytes) -> int:
        if path == bad:
            raise OSError(errno.EIO, "Input/output error")
        return real(path)

    monkeypatch.setattr(_copy, "open_source", flaky)
    (r,) = ingest_path(runtime, dock, actor="t")
    st = [f.status for f in r.files]
    assert st == [VERIFIED, FAILED, VERIFIED]
    assert r.files[1].error.startswith("unreadable: cannot open: [EIO]")
    assert not r.safe_to_wipe and files[1].name in r.reasons[0]
    assert _files_rows(runtime) == 2
    row = runtime.catalog.one(
        "SELECT status, error FROM session_files WHERE source_path LIKE %s", ("%" + files[1].name,)
    )
    assert row["status"] == "failed" and "EIO" in row["error"]
    monkeypatch.setattr(_copy, "open_source", real)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe and [f.resumed for f in r2.files] == [True, False, True]


def test_a_file_the_catalog_refuses_fails_alone_in_its_batch(runtime, dock: Path, monkeypatch) -> None:
    """The batch transaction fails on one file: the others are registered one by one, that one alone fails."""
    files = make_recorder(dock / "p1", "DSJ-A-0001", n=3)
    real = register.upsert_file

    def refuse_second(conn, ctx, fr, *a):  # type: ignore[no-untyped-def]
        if fr.path.endswith(files[1].name):
            raise RuntimeError("catalog refused this row")
        return real(conn, ctx, fr, *a)

    monkeypatch.setattr(register, "upsert_file", refuse_second)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert [f.status for f in r.files] == [VERIFIED, FAILED, VERIFIED]
    assert "catalog refused this row" in (r.files[1].error or "") and not r.safe_to_wipe
    # the two good files: one row and one sequenced ingestion event each, nothing from the rolled-back batch
    assert _files_rows(runtime) == 2
    ev = runtime.catalog.one("SELECT count(*) AS n, count(idx) AS seq FROM log_events WHERE type = 'ingestion'")
    assert ev["n"] == ev["seq"] == 2
    monkeypatch.setattr(register, "upsert_file", real)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe and [f.resumed for f in r2.files] == [True, False, True]
    assert runtime.catalog.one("SELECT count(*) AS n FROM log_events WHERE type = 'ingestion'")["n"] == 3


@pytest.mark.parametrize("how", ["truncate", "remove"])
def test_unplugged_mid_copy(runtime, dock: Path, monkeypatch, how: str) -> None:
    files = make_recorder(dock / "p1", "DSJ-A-0001", n=3, size=600_000)
    victim = os.fsencode(files[0].resolve())
    original = files[0].read_bytes()
    monkeypatch.setattr(_copy, "CHUNK", 128 * 1024)

    fired = []

    def hook(src: bytes, done: int) -> None:
        if src == victim and done >= 256 * 1024 and not fired:
            fired.append(done)
            if how == "truncate":
                os.truncate(src, 300_000)
            else:
                os.unlink(src)

    monkeypatch.setattr(_copy, "chunk_hook", hook)
    (r,) = ingest_path(runtime, dock, actor="t")
    f0 = r.files[0]
    assert f0.status == FAILED and f0.error.startswith("vanished:"), f0.error
    assert f0.sha256 is None and f0.file_id is None
    assert [f.status for f in r.files[1:]] == [VERIFIED, VERIFIED]
    assert _files_rows(runtime) == 2 and len(list(runtime.store.list("sha256/"))) == 2
    _no_staging_left(runtime)
    # plugged back in with the file intact: the next pass stores it
    monkeypatch.setattr(_copy, "chunk_hook", None)
    files[0].write_bytes(original)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe and r2.files[0].status == VERIFIED


class _DownStore:
    """The real store with put() failing as an unreachable backend would."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.name = inner, inner.name

    def put(self, *a, **k):  # type: ignore[no-untyped-def]
        raise StoreUnavailable("connection refused (simulated outage)")

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def test_store_unreachable(runtime, dock: Path) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", n=2)
    real = runtime.store
    runtime.store = _DownStore(real)
    try:
        (r,) = ingest_path(runtime, dock, actor="t")
    finally:
        runtime.store = real
    assert not r.safe_to_wipe and all(f.error.startswith("store_unavailable") for f in r.files)
    assert _files_rows(runtime) == 0
    assert runtime.catalog.one("SELECT count(*) AS n FROM log_events WHERE type='ingestion'")["n"] == 0
    _no_staging_left(runtime)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe


def test_database_unreachable(runtime, dock: Path) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", n=2)
    real = runtime.catalog
    dead = Catalog("postgresql://postgres@127.0.0.1:1/nowhere", timeout=1.0)
    dead.pool.open(wait=False)
    runtime.catalog = dead
    try:
        (r,) = ingest_path(runtime, dock, actor="t")
    finally:
        runtime.catalog = real
        dead.close()
    assert r.status == "failed" and not r.safe_to_wipe and r.session_id is None
    assert r.error.startswith("catalog_unavailable")
    assert all(f.status == FAILED and f.error.startswith("catalog_unavailable") for f in r.files)
    assert _files_rows(runtime) == 0
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe


def test_disk_full_in_staging(runtime, dock: Path) -> None:
    staging = runtime.settings.staging_dir
    staging.mkdir(parents=True, exist_ok=True)
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(staging)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        make_recorder(
            dock / "p1",
            "DSJ-A-0001",
            files=[
                (named("DSJ-A-0001", "110101", 1), os.urandom(3 * 1024 * 1024)),
                (named("DSJ-A-0001", "110101", 2), os.urandom(20_000)),
            ],
        )
        (r,) = ingest_path(runtime, dock, actor="t")
        assert r.files[0].status == FAILED and r.files[0].error.startswith("disk_full"), r.files[0].error
        assert r.files[1].status == VERIFIED  # copied across filesystems by the store: still fine
        assert list(staging.iterdir()) == []
        assert _files_rows(runtime) == 1
    finally:
        subprocess.run(["umount", str(staging)], check=True)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe


def test_session_refused_while_the_first_file_was_copied_leaves_nothing_staged(runtime, dock: Path,
                                                                              monkeypatch) -> None:
    """The first file is copied while the session's transaction runs (in the put thread); when that
    transaction fails, the early copy is removed, nothing is registered, and the next pass stores all."""
    make_recorder(dock / "p1", "DSJ-A-0001", n=2)
    copied = threading.Event()
    real_copy = offload._copy_staged

    def copy(ctx, e, stop=None):  # type: ignore[no-untyped-def]
        res = real_copy(ctx, e, stop)
        copied.set()
        return res

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        assert copied.wait(30), "the first file was not copied while the session was being opened"
        raise CatalogUnavailable("catalog went away while the session was opened")

    monkeypatch.setattr(offload, "_copy_staged", copy)
    monkeypatch.setattr(register, "open_session", refuse)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert not r.safe_to_wipe and r.error.startswith("catalog_unavailable"), r.error
    assert all(f.status == FAILED for f in r.files)
    assert _files_rows(runtime) == 0
    _no_staging_left(runtime)
    monkeypatch.undo()
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe and [f.status for f in r2.files] == [VERIFIED, VERIFIED]


def test_a_put_that_fails_while_the_next_file_is_copied_fails_alone(runtime, dock: Path, monkeypatch) -> None:
    """Puts run one file behind the copies: the failed put is reported for its own file only."""
    make_recorder(dock / "p1", "DSJ-A-0001", n=3)
    real_put = runtime.store.put
    calls = []

    def put(key, source, **kw):  # type: ignore[no-untyped-def]
        calls.append(key)
        if len(calls) == 2:
            raise StoreUnavailable("store went away for one put")
        return real_put(key, source, **kw)

    monkeypatch.setattr(runtime.store, "put", put)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert [f.status for f in r.files] == [VERIFIED, FAILED, VERIFIED]
    assert r.files[1].error.startswith("store_unavailable") and not r.safe_to_wipe
    assert _files_rows(runtime) == 2
    _no_staging_left(runtime)
    monkeypatch.undo()
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe
