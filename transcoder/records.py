"""Catalog writes of the transcoder: derivative rows + their derivation events, status, jobs, fingerprints.

Each derivative row and its ``derivation`` event commit in one transaction (I7, I8). Inserts are
idempotent on (file_id, kind, seq): a re-delivered message creates no duplicate row or event.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from liuhen.catalog.db import Catalog
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.transcoder.fingerprint import ALGO, Fingerprint, to_signed


@dataclass
class Derived:
    kind: str
    seq: int
    path: str  # relative to Settings.derived_dir
    sha256: str
    size: int
    mime: str
    event_id: int | None = None
    created: bool = True  # False when the row already existed (re-delivery)


def existing(catalog: Catalog, file_id: int) -> list[Derived]:
    rows = catalog.all(
        "SELECT kind, seq, path, sha256, size, mime, event_id FROM derivatives WHERE file_id = %s ORDER BY kind, seq",
        (file_id,),
    )
    return [Derived(**r, created=False) for r in rows]


def add_derivative(catalog: Catalog, d: Derived, original_sha256: str, recipe: dict[str, Any], actor: str) -> Derived:
    """Insert the row and its derivation event, unless a row for (file, kind, seq) already exists."""
    with catalog.tx() as conn:
        row = conn.execute(
            "SELECT kind, seq, path, sha256, size, mime, event_id FROM derivatives "
            "WHERE file_id = %s AND kind = %s AND seq = %s FOR UPDATE",
            (recipe["file_id"], d.kind, d.seq),
        ).fetchone()
        if row is not None:
            return Derived(**row, created=False)
        data = {
            "derivative": {
                "kind": d.kind,
                "seq": d.seq,
                "sha256": d.sha256,
                "size": d.size,
                "mime": d.mime,
                "path": d.path,
            },
            **{k: v for k, v in recipe.items() if k != "file_id"},
        }
        event_id = record(
            conn,
            Event("derivation", actor, subject={"sha256": original_sha256, "file_id": recipe["file_id"]}, data=data),
        )
        conn.execute(
            "INSERT INTO derivatives (file_id, kind, seq, sha256, size, path, mime, recipe, event_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (recipe["file_id"], d.kind, d.seq, d.sha256, d.size, d.path, d.mime, Jsonb(data), event_id),
        )
    d.event_id = event_id
    return d


def save_fingerprint(
    catalog: Catalog, file_id: int, original_sha256: str, fp: Fingerprint, recipe: dict[str, Any], actor: str
) -> tuple[int | None, bool]:
    """Store the per-second hashes and a derivation event naming their digest; idempotent per file."""
    digest = fp.digest()
    with catalog.tx() as conn:
        row = conn.execute("SELECT event_id FROM fingerprint_sets WHERE file_id = %s FOR UPDATE", (file_id,)).fetchone()
        if row is not None:
            return row["event_id"], False
        data = {
            "derivative": {
                "kind": "fingerprint",
                "algo": ALGO,
                "seconds": len(fp),
                "sha256": digest,
                "mode": fp.mode,
                "table": "fingerprints",
            },
            **recipe,
        }
        event_id = record(
            conn, Event("derivation", actor, subject={"sha256": original_sha256, "file_id": file_id}, data=data)
        )
        conn.execute("DELETE FROM fingerprints WHERE file_id = %s", (file_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO fingerprints (file_id, t, hash) VALUES (%s, %s, %s)",
                [(file_id, int(t), to_signed(int(h))) for t, h in zip(fp.seconds, fp.hashes, strict=True)],
            )
        conn.execute(
            "INSERT INTO fingerprint_sets (file_id, algo, mode, seconds, digest, event_id) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (file_id, ALGO, fp.mode, len(fp), digest, event_id),
        )
    return event_id, True


def set_status(
    catalog: Catalog,
    file_id: int,
    status: str,
    *,
    info: dict[str, Any] | None = None,
    error: str | None = None,
    media_kind: str | None = None,
    duration_s: float | None = None,
) -> None:
    catalog.one(
        "UPDATE files SET media_status = %s, media_error = %s, "
        "media_info = coalesce(%s, media_info), duration_s = coalesce(%s, duration_s), "
        "media_kind = CASE WHEN media_kind = 'unknown' AND %s::text IS NOT NULL THEN %s ELSE media_kind END "
        "WHERE id = %s RETURNING id",
        (status, error, Jsonb(info) if info is not None else None, duration_s, media_kind, media_kind, file_id),
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def start_job(catalog: Catalog, file_id: int, message_id: str | None) -> int:
    row = catalog.one(
        "INSERT INTO transcode_jobs (file_id, worker, host, pid, message_id) VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (file_id, worker_name(), socket.gethostname(), os.getpid(), message_id),
    )
    assert row is not None
    return int(row["id"])


def finish_job(catalog: Catalog, job_id: int, outcome: str, error: str | None = None) -> None:
    catalog.one(
        "UPDATE transcode_jobs SET finished_at = now(), outcome = %s, error = %s, "
        "seconds = extract(epoch FROM now() - started_at) WHERE id = %s RETURNING id",
        (outcome, error, job_id),
    )


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)
