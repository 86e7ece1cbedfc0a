"""Sending work to the transcoder actors: the ingest path first, sweeps (backfill) after."""

from __future__ import annotations

from typing import Any

from liuhen.runtime import Runtime
from liuhen.transcoder import actors


def enqueue(file_id: int, *, priority: str = "ingest") -> Any:
    """Send the transcode message for ``file_id``; ``ingest`` work is served before ``backfill``."""
    actor = actors.transcode if priority == "ingest" else actors.transcode_backfill
    return actor.send(int(file_id))


def enqueue_pending(runtime: Runtime, *, limit: int | None = None) -> list[int]:
    """Sweep: enqueue (at backfill priority) every file still ``media_status = 'pending'``."""
    rows = runtime.catalog.all(
        "SELECT id FROM files WHERE media_status = 'pending' AND status = 'stored' ORDER BY id LIMIT %s",
        (limit,),
    )
    ids = [int(r["id"]) for r in rows]
    for i in ids:
        enqueue(i, priority="backfill")
    return ids
