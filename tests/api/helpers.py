"""Test helpers: store real footage the way ingest does (store.put + files row) without importing ingest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from liuhen.storage.base import key_for

T0 = datetime(2024, 5, 6, 9, 0, 0, tzinfo=UTC)


def store_file(
    runtime: Any,
    path: Path,
    *,
    recorded_at: datetime | None = T0,
    duration_s: float | None = 4.0,
    officer_no: str = "110001",
    device_serial: str = "DSJ-0001",
    unit_code: str = "U1",
    ingested_at: datetime | None = None,
    media_kind: str = "video",
    flags: list[str] | None = None,
) -> dict[str, Any]:
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = key_for(sha)
    runtime.store.put(key, path, sha256=sha, size=len(data))
    with runtime.catalog.tx() as conn:
        row = conn.execute(
            "INSERT INTO files (sha256, size, media_kind, ext, original_name, device_serial, officer_no, "
            "unit_code, recorded_at, duration_s, storage_key, ingested_at, flags, media_status) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'ok') "
            "ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256 RETURNING *",
            (
                sha,
                len(data),
                media_kind,
                path.suffix.lstrip("."),
                path.name,
                device_serial,
                officer_no,
                unit_code,
                recorded_at,
                duration_s,
                key,
                ingested_at or (recorded_at or T0) + timedelta(hours=1),
                flags or [],
            ),
        ).fetchone()
    return dict(row)


def add_derivative(runtime: Any, file_row: dict[str, Any], path: Path, kind: str, mime: str, seq: int = 0) -> int:
    data = path.read_bytes()
    dest = runtime.settings.derived_dir / file_row["sha256"][:2] / f"{file_row['sha256']}.{kind}{seq}{path.suffix}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    with runtime.catalog.tx() as conn:
        row = conn.execute(
            "INSERT INTO derivatives (file_id, kind, seq, sha256, size, path, mime, recipe) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,'{}') RETURNING id",
            (
                file_row["id"],
                kind,
                seq,
                hashlib.sha256(data).hexdigest(),
                len(data),
                str(dest.relative_to(runtime.settings.derived_dir)),
                mime,
            ),
        ).fetchone()
    return int(row["id"])
