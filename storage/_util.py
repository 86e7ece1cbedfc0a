"""Small helpers shared by the backends: key checks, UTC times, ranges, hashing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from storage.errors import RetentionViolation, StorageError

CHUNK = 4 << 20  # 4 MiB: large enough that hashlib releases the GIL and syscalls are few
COMPLIANCE = "COMPLIANCE"
GOVERNANCE = "GOVERNANCE"
_KEY_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class InvalidKey(StorageError):
    status = 422
    title = "Invalid object key"


class InvalidRange(StorageError):
    status = 416
    title = "Range not satisfiable"


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


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(t: datetime) -> datetime:
    """Naive datetimes are taken as UTC; everything is returned timezone-aware in UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def default_until(days: int) -> datetime:
    return utcnow() + timedelta(days=days)


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
