"""In-memory write-once store: the test double, with exactly the semantics of the real backends.

Same rules as every backend (see ``storage.base``): verified put, no overwrite, retention only
extended, dispose only after expiry and with no legal hold. Nothing survives the process.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from liuhen.core.timefmt import utcnow
from liuhen.storage.base import ObjectInfo
from liuhen.storage.errors import DigestMismatch, ObjectLocked, ObjectNotFound, RetentionViolation
from liuhen.storage.probe import Canary, Probes
from liuhen.storage.util import (
    COMPLIANCE,
    check_key,
    check_range,
    check_sha256,
    default_until,
    iter_stream,
    require_future,
)


@dataclass
class _Obj:
    data: bytes
    info: ObjectInfo


class MemoryStore:
    """A dict of immutable byte strings plus their retention records, behind one lock."""

    name = "memory"

    def backend_probes(self, canary: Canary) -> Probes:
        """``storage check``: nothing below the API to probe."""
        return [], ["memory: in-process test double, no backend to probe; keeps nothing after exit"]

    def __init__(self, default_retention_days: int = 180) -> None:
        self.default_retention_days = default_retention_days
        self._objs: dict[str, _Obj] = {}
        self._lock = threading.RLock()  # re-entered by put -> _existing -> extend_retention

    def put(
        self,
        key: str,
        source: Path | BinaryIO,
        *,
        sha256: str,
        size: int | None = None,
        retain_until: datetime | None = None,
    ) -> ObjectInfo:
        check_key(key)
        expected = check_sha256(sha256)
        until = require_future(key, retain_until or default_until(self.default_retention_days))
        with self._lock:
            existing = self._objs.get(key)
        if existing is not None:
            return self._existing(key, existing, expected, until)
        if isinstance(source, Path):
            data = source.read_bytes()
        else:
            data = b"".join(iter_stream(source))
        computed = hashlib.sha256(data).hexdigest()
        if computed != expected:
            raise DigestMismatch(key, expected, computed)
        if size is not None and size != len(data):
            raise DigestMismatch(key, f"{expected} ({size} bytes)", f"{computed} ({len(data)} bytes)")
        now = utcnow()
        info = ObjectInfo(
            key=key,
            size=len(data),
            sha256=computed,
            version=uuid.uuid4().hex,
            retention_mode=COMPLIANCE,
            retain_until=until,
            legal_hold=False,
            created_at=now,
        )
        with self._lock:
            existing = self._objs.get(key)
            if existing is not None:  # lost a race with an identical put
                return self._existing(key, existing, expected, until)
            self._objs[key] = _Obj(data, info)
        return info

    def _existing(self, key: str, obj: _Obj, expected: str, until: datetime) -> ObjectInfo:
        if obj.info.sha256 != expected:
            raise ObjectLocked(f"{key}: already holds sha256 {obj.info.sha256}; refusing to overwrite with {expected}")
        if obj.info.retain_until is None or until > obj.info.retain_until:
            return self.extend_retention(key, until)
        return obj.info

    def _get(self, key: str) -> _Obj:
        with self._lock:
            obj = self._objs.get(key)
        if obj is None:
            raise ObjectNotFound(f"{key}: no such object")
        return obj

    def get(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        obj = self._get(key)
        lo, hi = check_range(key, len(obj.data), start, end)
        view = memoryview(obj.data)
        for i in range(lo, hi, 1 << 20):
            yield bytes(view[i : min(hi, i + (1 << 20))])

    def head(self, key: str) -> ObjectInfo:
        return self._get(key).info

    def exists(self, key: str) -> bool:
        with self._lock:
            return key in self._objs

    def extend_retention(self, key: str, until: datetime) -> ObjectInfo:
        until = require_future(key, until)
        with self._lock:
            obj = self._objs.get(key)
            if obj is None:
                raise ObjectNotFound(f"{key}: no such object")
            cur = obj.info.retain_until
            if cur is not None and until < cur:
                raise RetentionViolation(
                    f"{key}: retention can only be extended ({until.isoformat()} < {cur.isoformat()})"
                )
            obj.info = replace(obj.info, retain_until=until)
            return obj.info

    def set_legal_hold(self, key: str, on: bool) -> ObjectInfo:
        with self._lock:
            obj = self._objs.get(key)
            if obj is None:
                raise ObjectNotFound(f"{key}: no such object")
            obj.info = replace(obj.info, legal_hold=bool(on))
            return obj.info

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._lock:
            infos = [o.info for k, o in sorted(self._objs.items()) if k.startswith(prefix)]
        yield from infos

    def dispose(self, key: str) -> None:
        with self._lock:
            obj = self._objs.get(key)
            if obj is None:
                raise ObjectNotFound(f"{key}: no such object")
            if obj.info.legal_hold:
                raise ObjectLocked(f"{key}: under legal hold")
            if obj.info.retain_until is not None and obj.info.retain_until > utcnow():
                raise ObjectLocked(f"{key}: retained until {obj.info.retain_until.isoformat()}")
            del self._objs[key]
