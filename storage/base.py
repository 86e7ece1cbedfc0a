"""The ``ObjectStore`` protocol every backend implements.

Rules every backend keeps (the conformance suite checks each):
- ``put`` streams the bytes, verifies them against the expected SHA-256 and refuses a mismatch
  (``DigestMismatch``, nothing stored); a second ``put`` of the same key with the same digest is a
  no-op returning the existing object; there is no overwrite.
- Retention can only be extended; ``dispose`` succeeds only after retention expired and with no
  legal hold; nothing else removes an object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


def key_for(sha256: str) -> str:
    """Content-addressed key of an original: identical content is stored once."""
    s = sha256.lower()
    if len(s) != 64 or any(c not in "0123456789abcdef" for c in s):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"sha256/{s[:2]}/{s[2:4]}/{s}"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str
    version: str | None = None
    retention_mode: str | None = None  # "COMPLIANCE" or "GOVERNANCE"
    retain_until: datetime | None = None
    legal_hold: bool = False
    created_at: datetime | None = None


@runtime_checkable
class ObjectStore(Protocol):
    name: str

    def put(
        self,
        key: str,
        source: Path | BinaryIO,
        *,
        sha256: str,
        size: int | None = None,
        retain_until: datetime | None = None,
    ) -> ObjectInfo:
        """Store ``source`` under ``key`` if absent; verify SHA-256; apply COMPLIANCE retention."""
        ...

    def get(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes ``start``..``end`` (inclusive, like HTTP Range; ``None`` = to the end)."""
        ...

    def head(self, key: str) -> ObjectInfo:
        """Size, checksum, retention, hold and version; ``ObjectNotFound`` if absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def extend_retention(self, key: str, until: datetime) -> ObjectInfo:
        """Move retain-until later; an earlier date raises ``RetentionViolation``."""
        ...

    def set_legal_hold(self, key: str, on: bool) -> ObjectInfo: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def dispose(self, key: str) -> None:
        """Remove an object whose retention expired and that has no legal hold; else ``ObjectLocked``."""
        ...
