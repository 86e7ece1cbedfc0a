"""Small helpers shared by the backends: key checks, UTC times, ranges, hashing."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from liuhen.core.timefmt import as_utc, utcnow
from liuhen.storage.errors import InvalidKey, InvalidRange, RetentionViolation

CHUNK = 4 << 20  # 4 MiB: large enough that hashlib releases the GIL and syscalls are few
COMPLIANCE = "COMPLIANCE"
GOVERNANCE = "GOVERNANCE"
_KEY_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def check_key(key: str) -> str:
    """Keys are relative, slash-separated, no empty/``.``/``..`` segments (safe as file paths)."""
    if not _KEY_RE.match(key) or any(seg in (".", "..") for seg in key.split("/")) or len(key) > 512:
        raise InvalidKey(f"invalid object key {key!r}")
    return key


def check_sha256(digest: str) -> str:
    d = digest.lower()
    if len(d) != 64 or any(c not in "0123456789abcdef" for c in d):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    return d


def default_until(days: int, now: datetime | None = None) -> datetime:
    """The retain-until an original gets when it is stored (at ingest): ``now + days``.

    The one definition of the ingest retention rule (Art. 13: ``Settings.retention_days`` ≥ 180);
    the stores apply it when ``put`` is given no ``retain_until``, and ingest passes it explicitly.
    """
    return as_utc(now or utcnow()) + timedelta(days=days)


def require_future(key: str, until: datetime) -> datetime:
    until = as_utc(until)
    if until <= utcnow():
        raise RetentionViolation(f"{key}: retain-until {until.isoformat()} is not in the future")
    return until


def check_range(key: str, size: int, start: int, end: int | None) -> tuple[int, int]:
    """Inclusive ``start..end`` clamped to the object; returns (start, stop) with stop exclusive."""
    if start < 0 or (end is not None and end < start):
        raise InvalidRange(f"{key}: bad range {start}-{end}")
    if start >= size and not (start == 0 and size == 0):
        raise InvalidRange(f"{key}: range start {start} beyond size {size}")
    stop = size if end is None else min(end + 1, size)
    return start, stop


def hash_path(path: Path) -> tuple[str, int]:
    """SHA-256 hex and size of a file, read in large chunks (page cache makes a re-read cheap)."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while True:
            k = f.readinto(buf)
            if not k:
                break
            h.update(view[:k])
            n += k
    return h.hexdigest(), n


def iter_stream(src: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    while True:
        b = src.read(chunk)
        if not b:
            return
        yield b


# -- write-once files written in one pass ------------------------------------------------------------
WRITE_BEHIND = 8 << 20  # start writeback every 8 MiB instead of leaving it all to the final fsync
_SYNC_FILE_RANGE_WRITE = 2


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        f: Any = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # not Linux/glibc: the final fsync does all the work
        return None
    f.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    f.restype = ctypes.c_int
    return f  # type: ignore[no-any-return]


_sync_file_range = _load_sync_file_range()


def write_behind(fd: int, offset: int, length: int) -> None:
    """Start writeback of ``[offset, offset+length)`` now, without waiting (Linux ``sync_file_range``).

    Not a durability guarantee (``fsync`` still is); it keeps the disk writing during a copy instead
    of piling up dirty pages for one long fsync at the end (measured: ~30 % less wall and system time
    for 4 concurrent 2 GiB copies here).
    """
    if _sync_file_range is not None and length > 0:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def drop_cached(fd: int, offset: int, length: int) -> None:
    """Advise the kernel to drop (clean) cached pages of a range we will not read again."""
    if length > 0:
        with contextlib.suppress(AttributeError, OSError):
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


@dataclass(frozen=True)
class Sealed:
    """A file written once by ``HashingWriter``: fsynced, read-only, with the SHA-256 of what was written."""

    path: Path
    sha256: str
    size: int


class HashingWriter:
    """Create ``path`` (exclusively) and write it once while hashing exactly the bytes written.

    ``write(buf)`` updates SHA-256 and writes the same buffer (hashlib and ``os.write`` both release
    the GIL, so concurrent writers use both cores); writeback is started as it goes and written pages
    are dropped from the cache (nothing reads them back). ``seal()`` fsyncs, makes the file read-only
    and returns a ``Sealed``; ``abort()`` removes it. ``OSError`` (ENOSPC, EIO, …) propagates as is.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._h = hashlib.sha256()
        self.size = 0
        self._started = 0  # writeback started up to here
        self._dropped = 0  # cache dropped up to here
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        self._h.update(view)
        while view:
            view = view[os.write(self.fd, view) :]
        self.size += len(data)
        if self.size - self._started >= WRITE_BEHIND:
            # the previous window's writeback has had a chunk's time to finish: drop it (DONTNEED skips
            # pages still dirty or under writeback, so this never loses data), then start this one
            drop_cached(self.fd, self._dropped, self._started - self._dropped)
            self._dropped = self._started
            write_behind(self.fd, self._started, self.size - self._started)
            self._started = self.size

    def _finish(self) -> os.stat_result:
        """fsync (durable), mode 0444, drop the cache; returns the final ``fstat``."""
        os.fsync(self.fd)
        os.fchmod(self.fd, 0o444)
        drop_cached(self.fd, 0, self.size)
        st = os.fstat(self.fd)
        self._close()
        return st

    def seal(self) -> Sealed:
        self._finish()
        return Sealed(self.path, self._h.hexdigest(), self.size)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)

    def abort(self) -> None:
        """Close and remove the file (idempotent)."""
        self._close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
