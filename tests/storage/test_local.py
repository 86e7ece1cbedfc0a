"""Local write-once store specifics: link fast path, read-only files, the append-only journal,
a full disk leaving nothing half-written, and the root warning (禁删改 within what a directory can do)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liuhen.storage import local
from liuhen.storage.base import ObjectInfo, key_for
from liuhen.storage.check import run_check
from liuhen.storage.errors import JournalCorrupt, StoreFull
from liuhen.storage.local import LocalStore


def _digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_same_filesystem_path_is_linked_not_copied_and_read_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    staging = tmp_path / "store" / "staging"
    staging.mkdir()
    src = staging / "clip.mp4"
    src.write_bytes(b"x" * 100_000)
    info = store.put(key_for(_digest(src.read_bytes())), src, sha256=_digest(src.read_bytes()))
    final = store.path_of(info.key)
    assert final.stat().st_ino == src.stat().st_ino  # a link, not a copy
    assert stat.S_IMODE(final.stat().st_mode) == 0o444
    assert list(store.tmp.iterdir()) == []


def test_state_survives_reopen_and_journal_only_extends(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    data = b"evidence"
    key = key_for(_digest(data))
    until = datetime.now(UTC) + timedelta(days=400)
    store.put(key, io.BytesIO(data), sha256=_digest(data), retain_until=until)
    store.set_legal_hold(key, True)
    again = LocalStore(tmp_path / "s").head(key)
    assert (again.retain_until, again.legal_hold, again.sha256) == (until, True, _digest(data))
    # a well-formed but earlier 'retain' record appended by hand cannot shorten retention
    jp = store.journal_path(key)
    lines = jp.read_bytes().splitlines()
    prev = hashlib.sha256(lines[-1]).hexdigest()
    os.chmod(jp, 0o644)
    with open(jp, "ab") as f:
        f.write(
            b'{"at":"2025-01-01T00:00:00+00:00","op":"retain","prev":"%s",' % prev.encode()
            + b'"retain_until":"2025-06-01T00:00:00+00:00"}\n'
        )
    assert store.head(key).retain_until == until


def test_torn_journal_tail_is_tolerated_and_tampering_detected(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    data = b"torn"
    key = key_for(_digest(data))
    store.put(key, io.BytesIO(data), sha256=_digest(data))
    jp = store.journal_path(key)
    os.chmod(jp, 0o644)
    with open(jp, "ab") as f:
        f.write(b'{"op":"hold","on":tr')  # crash mid-append
    assert store.head(key).legal_hold is False
    assert store.set_legal_hold(key, True).legal_hold is True  # next append starts a fresh line
    raw = jp.read_bytes()
    os.chmod(jp, 0o644)
    jp.write_bytes(raw.replace(b'"op":"create"', b'"op":"create" ', 1))  # edit a chained line
    with pytest.raises(JournalCorrupt):
        store.head(key)


def test_startup_warning_names_the_root_limit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="liuhen.storage.local"):
        LocalStore(tmp_path / "warned")
    assert any("cannot stop root" in r.getMessage() for r in caplog.records)


def test_root_warning_once_per_data_dir_and_in_storage_check(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "store"
    with caplog.at_level(logging.WARNING, logger="liuhen.storage.local"):
        LocalStore(root)
        # every CLI call is a new process: forget what this process warned about
        monkeypatch.setattr(local, "_warned", set())
        LocalStore(root)
        monkeypatch.setattr(local, "_warned", set())
        store = LocalStore(root)
    warnings = [r for r in caplog.records if "cannot stop root" in r.getMessage()]
    assert len(warnings) == 1  # once for this data dir, not once per command
    report = run_check(store, canary_retention=timedelta(seconds=5))
    assert any("cannot stop root" in n and str(root.resolve()) in n for n in report.notes)


@contextlib.contextmanager
def _tiny_fs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to provoke ENOSPC (needs root): {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_disk_full_raises_store_full_with_nothing_half_written(tmp_path: Path) -> None:
    with _tiny_fs(tmp_path / f"full-{uuid.uuid4().hex[:6]}", "2m") as mnt:
        store = LocalStore(mnt / "store")
        data = os.urandom(3 << 20)  # more than the filesystem holds
        key = key_for(_digest(data))
        with pytest.raises(StoreFull):
            store.put(key, io.BytesIO(data), sha256=_digest(data))
        assert not store.exists(key)
        assert list(store.tmp.iterdir()) == []
        assert not store.journal_path(key).exists() or b"create" not in store.journal_path(key).read_bytes()
        # the store still works for what fits
        small = b"fits"
        store.put(key_for(_digest(small)), io.BytesIO(small), sha256=_digest(small))
        assert b"".join(store.get(key_for(_digest(small)))) == small


def test_symlink_source_stores_a_regular_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", warn=False)
    real = tmp_path / "store" / "real.bin"
    real.write_bytes(b"y" * 1000)
    link = tmp_path / "store" / "link.bin"
    link.symlink_to(real)
    info = store.put(key_for(_digest(b"y" * 1000)), link, sha256=_digest(b"y" * 1000))
    final = store.path_of(info.key)
    assert not final.is_symlink() and final.read_bytes() == b"y" * 1000


def test_an_identical_put_racing_a_retention_extension_keeps_the_later_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI, 2026-12-07: four identical puts at once; one read the retention, another extended it further,
    # and the first then tried to "extend" to its own, earlier date and was refused.
    store = LocalStore(tmp_path / "s")
    data = b"evidence" * 1000
    digest = _digest(data)
    key = key_for(digest)
    first = datetime.now(UTC) + timedelta(days=200)
    store.put(key, io.BytesIO(data), sha256=digest, retain_until=first)
    mine, theirs = first + timedelta(days=1), first + timedelta(days=2)
    real_head = store.head

    def head_then_another_put_extends(k: str) -> ObjectInfo:
        info = real_head(k)  # what this put saw ...
        monkeypatch.setattr(store, "head", real_head)
        store.extend_retention(k, theirs)  # ... before a concurrent identical put extended it further
        return info

    monkeypatch.setattr(store, "head", head_then_another_put_extends)
    info = store.put(key, io.BytesIO(data), sha256=digest, retain_until=mine)
    assert info.retain_until == theirs
    assert store.head(key).retain_until == theirs
