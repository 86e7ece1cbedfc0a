"""Transcoder fixtures: put real footage into the store + catalog as ingest would."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from liuhen.storage.base import key_for


def add_original(runtime, path: Path, media_kind: str = "video") -> int:  # type: ignore[no-untyped-def]
    """Store ``path`` and insert its files row (media_status 'pending'); return the file id."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = key_for(sha)
    if not runtime.store.exists(key):
        runtime.store.put(key, path, sha256=sha, size=len(data))
    row = runtime.catalog.one(
        "INSERT INTO files (sha256, size, media_kind, ext, original_name, storage_key) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO UPDATE SET size = EXCLUDED.size RETURNING id",
        (sha, len(data), media_kind, path.suffix.lstrip(".").lower(), path.name, key),
    )
    assert row is not None
    return int(row["id"])


@pytest.fixture
def add(runtime):  # type: ignore[no-untyped-def]
    def _add(path: Path, media_kind: str = "video") -> int:
        return add_original(runtime, path, media_kind)

    return _add
