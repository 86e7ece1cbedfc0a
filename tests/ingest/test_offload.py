"""End-to-end offload on real PostgreSQL + the local write-once store: receipts, I2/I3, resume, flags."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from liuhen.ingest import copy as _copy
from liuhen.ingest import register
from liuhen.ingest.offload import ingest_path
from liuhen.ingest.receipts import VERIFIED, reverify
from liuhen.simulate import simulate_dock
from liuhen.storage.base import key_for
from tests.ingest.helpers import CST, make_recorder, named


def _counts(rt) -> dict[str, int]:
    row = rt.catalog.one(
        "SELECT (SELECT count(*) FROM files) AS files, "
        "(SELECT count(*) FROM log_events WHERE type = 'ingestion') AS ingestion, "
        "(SELECT count(*) FROM log_events WHERE type = 'receipt') AS receipts, "
        "(SELECT count(*) FROM log_events WHERE idx IS NULL) AS pending"
    )
    return dict(row)


def test_dock_of_real_footage_is_safe_to_wipe_and_logged(runtime, dock: Path) -> None:
    """I2/I3: every file stored with its digest + retention, catalogued, its event indexed; receipt stored."""
    recs = simulate_dock(dock, recorders=2, width=320, height=240, bitrate="400k", clip_seconds=2, minutes=0.05)
    stored: list[int] = []
    receipts = ingest_path(runtime, dock, actor="test:clerk", on_stored=stored.append)
    assert [r.port for r in receipts] == ["port01", "port02"]
    total = sum(len(r.files) for r in recs)
    assert sum(len(r.files) for r in receipts) == total
    assert sorted(stored) == sorted({f.file_id for r in receipts for f in r.files})
    for r in receipts:
        assert r.safe_to_wipe, r.reasons
        assert r.status == "complete" and r.receipt_log_index is not None
        for f in r.files:
            assert f.status == VERIFIED and f.log_index is not None
            info = runtime.store.head(f.storage_key)
            assert info.sha256 == f.sha256 and info.retain_until is not None
            assert info.retain_until > datetime.now(CST) + timedelta(days=179)
        row = runtime.catalog.one(
            "SELECT receipt, safe_to_wipe, receipt_event_id FROM ingest_sessions WHERE id = %s", (r.session_id,)
        )
        assert row["safe_to_wipe"] and row["receipt"]["files"] == json.loads(r.to_json())["files"]
        ev = runtime.catalog.one("SELECT body FROM log_events WHERE id = %s", (row["receipt_event_id"],))
        assert json.loads(bytes(ev["body"]))["data"]["receipt_sha256"] == r.body_sha256()
    # the recorder that lost power mid-write: flagged truncated, stored byte-for-byte anyway
    trunc = [f for f in receipts[0].files if "truncated" in f.flags]
    assert len(trunc) == 1 and trunc[0].status == VERIFIED
    data = b"".join(runtime.store.get(trunc[0].storage_key))
    assert data == (recs[0].port / trunc[0].path).read_bytes()
    # device identity kept per file
    row = runtime.catalog.one(
        "SELECT device_serial, officer_no, unit_code, recorded_at FROM files WHERE id = %s",
        (receipts[1].files[0].file_id,),
    )
    assert row["device_serial"] == "DSJ-X7-1002" and row["officer_no"] == "110102" and row["recorded_at"]
    assert _counts(runtime)["pending"] == 0


def test_redock_is_idempotent_and_resumes(runtime, dock: Path) -> None:
    make_recorder(dock / "port01", "DSJ-A-0001", n=4)
    first = ingest_path(runtime, dock, actor="t")
    before = _counts(runtime)
    again = ingest_path(runtime, dock, actor="t")
    after = _counts(runtime)
    assert first[0].safe_to_wipe and again[0].safe_to_wipe
    assert all(f.resumed for f in again[0].files)
    assert after["files"] == before["files"] == 4
    assert after["ingestion"] == before["ingestion"] == 4  # no second ingestion event for the same sighting
    assert after["receipts"] == before["receipts"] + 1
    assert [f.sha256 for f in again[0].files] == [f.sha256 for f in first[0].files]
    # mtime touched: copied again (digest known) — still the same sighting, no new event, no new object
    for p in (dock / "port01" / "DCIM" / "100MEDIA").iterdir():
        os.utime(p, None)
    third = ingest_path(runtime, dock, actor="t")
    assert third[0].safe_to_wipe and _counts(runtime)["ingestion"] == 4
    assert len(list(runtime.store.list("sha256/"))) == 4


def test_duplicate_across_recorders_stored_once(runtime, dock: Path) -> None:
    same = os.urandom(30_000)
    make_recorder(dock / "port01", "DSJ-A-0001", files=[(named("DSJ-A-0001", "110101", 1), same)])
    make_recorder(dock / "port02", "DSJ-A-0002", "110102", files=[(named("DSJ-A-0002", "110102", 1), same)])
    rs = ingest_path(runtime, dock, actor="t", parallelism=1)
    assert all(r.safe_to_wipe for r in rs)
    assert rs[0].files[0].file_id == rs[1].files[0].file_id
    assert "duplicate_across_recorders" in rs[1].files[0].flags
    assert _counts(runtime)["files"] == 1 and _counts(runtime)["ingestion"] == 2  # two sightings, one original
    assert len(list(runtime.store.list("sha256/"))) == 1


def test_flags_identity_names_clock_late(runtime, dock: Path) -> None:
    old = datetime.now(CST) - timedelta(days=3)
    files = [
        (named("DSJ-A-0001", "110101", 1, "WAV"), b"RIFF" + (8).to_bytes(4, "little") + b"WAVEdata"),
        (named("DSJ-A-0001", "110101", 2, "MP4", when=old), os.urandom(1000)),
        ("IMG_0001.JPG", os.urandom(500)),
        (named("DSJ-Z-9999", "110101", 3, "AMR"), os.urandom(500)),
    ]
    make_recorder(dock / "port01", "DSJ-A-0001", files=files, clock=datetime.now(CST) + timedelta(hours=1))
    # name time vs mtime: the file claims to be recorded an hour after it was last written
    p = dock / "port01" / "DCIM" / "100MEDIA" / files[0][0]
    ts = p.stat().st_mtime - 3600
    os.utime(p, (ts, ts))
    (r,) = ingest_path(runtime, dock, actor="t")
    assert "clock_drift" in r.flags
    by = {Path(f.path).name: f for f in r.files}
    assert "clock_drift" in by[files[0][0]].flags
    assert "late_upload" in by[files[1][0]].flags
    assert "undecodable" in by[files[1][0]].flags or "truncated" in by[files[1][0]].flags
    assert "bad_name" in by["IMG_0001.JPG"].flags
    assert "name_identity_mismatch" in by[files[3][0]].flags
    assert r.safe_to_wipe  # flags never stop a file from being stored


def test_missing_identity_still_ingested_and_flagged(runtime, dock: Path) -> None:
    make_recorder(dock / "port01", "DSJ-A-0007", identity=False, n=2)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert "missing_identity" in r.flags and r.device is None
    assert r.recorder_key == "unidentified:DSJ-A-0007"
    assert all(f.status == VERIFIED for f in r.files) and r.safe_to_wipe


def test_sm3_computed_in_the_same_pass(tmp_path: Path, settings, dock: Path) -> None:
    from liuhen.wiring import build_runtime

    settings = settings.model_copy(update={"digests": ["sha256", "sm3"]})
    files = make_recorder(dock / "port01", "DSJ-A-0001", n=2, size=3 * 1024 * 1024 + 7)
    rt = build_runtime(settings)
    try:
        (r,) = ingest_path(rt, dock, actor="t")
    finally:
        rt.close()
    for p, f in zip(files, r.files, strict=True):
        data = p.read_bytes()
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        assert f.sm3 == hashlib.new("sm3", data).hexdigest()
        assert f.storage_key == key_for(f.sha256)


def test_one_read_per_byte(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src.bin"
    data = os.urandom(5 * 1024 * 1024 + 3)
    src.write_bytes(data)
    read = {"n": 0}
    real = os.readv

    def counting(fd, bufs):  # type: ignore[no-untyped-def]
        k = real(fd, bufs)
        read["n"] += k
        return k

    monkeypatch.setattr(_copy.os, "readv", counting)
    res = _copy.copy_and_hash(os.fsencode(src), tmp_path, sm3=True, chunk=1 << 20)
    assert read["n"] == len(data)  # every byte read exactly once, for copy + SHA-256 + SM3
    assert res.staging.read_bytes() == data
    assert res.sha256 == hashlib.sha256(data).hexdigest() and res.sm3 == hashlib.new("sm3", data).hexdigest()


def test_stored_receipt_rechecked_not_remembered(runtime, dock: Path) -> None:
    """I3: SAFE TO WIPE is re-derived from the store and the log — a vanished object revokes it."""
    make_recorder(dock / "port01", "DSJ-A-0001", n=2)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert r.safe_to_wipe
    obj = runtime.store.path_of(r.files[0].storage_key)
    os.chmod(obj.parent, 0o755)
    obj.unlink()  # root can do what the local store cannot prevent
    again = reverify(runtime, r.session_id)
    assert again is not None and not again.safe_to_wipe
    assert again.files[0].status != VERIFIED and "not_in_store" in (again.files[0].error or "")
    assert again.files[1].status == VERIFIED


def test_the_first_copy_starts_before_the_catalog_answers(runtime, dock: Path, monkeypatch) -> None:
    """The resume lookup and the session run in the put thread: the first file's bytes are already
    being copied while the catalog has not answered (with the lookup first, this waits in vain)."""
    make_recorder(dock / "p1", "DSJ-A-0001", n=2, size=3 << 20)
    copying = threading.Event()
    real_lookup = register.prior_paths
    waited: list[bool] = []

    def slow_lookup(ctx):  # type: ignore[no-untyped-def]
        waited.append(copying.wait(10))
        return real_lookup(ctx)

    monkeypatch.setattr(_copy, "chunk_hook", lambda src, n: copying.set())
    monkeypatch.setattr(register, "prior_paths", slow_lookup)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert waited and waited[0], "the first copy waited for the catalog"
    assert r.safe_to_wipe and [f.status for f in r.files] == [VERIFIED, VERIFIED]


def test_a_resumed_first_file_copied_early_is_stopped_and_not_stored_again(runtime, dock: Path, monkeypatch) -> None:
    """Re-docked: the first file was stored before. Its early copy stops at the next chunk once the
    lookup says so (nothing staged is left), the file is resumed, and only the new one is copied."""
    files = make_recorder(dock / "p1", "DSJ-A-0001", n=1, size=4 << 20)
    (r1,) = ingest_path(runtime, dock, actor="t")
    assert r1.safe_to_wipe
    files += make_recorder(dock / "p1", "DSJ-A-0001", n=1, size=1000, seq0=2)
    copied: list[tuple[bytes, int]] = []
    started, answered = threading.Event(), threading.Event()
    real_lookup = register.prior_paths

    def hook(src: bytes, n: int) -> None:  # the first chunk waits until the lookup has answered
        copied.append((src, n))
        if not started.is_set():
            started.set()
            answered.wait(10)
            time.sleep(0.2)  # the put thread sets the stop right after the lookup returns

    def lookup_once_copying(ctx):  # type: ignore[no-untyped-def]
        started.wait(10)
        try:
            return real_lookup(ctx)
        finally:
            answered.set()

    monkeypatch.setattr(_copy, "chunk_hook", hook)
    monkeypatch.setattr(register, "prior_paths", lookup_once_copying)
    (r2,) = ingest_path(runtime, dock, actor="t")
    assert r2.safe_to_wipe and [f.resumed for f in r2.files] == [True, False]
    first = os.fsencode(files[0].resolve())
    got = max(n for src, n in copied if src == first)
    assert 0 < got < files[0].stat().st_size, f"the early copy of the resumed file ran to {got} bytes"
    assert [p.name for p in runtime.settings.staging_dir.iterdir()] == []
    assert _counts(runtime)["files"] == 2 and _counts(runtime)["ingestion"] == 2
