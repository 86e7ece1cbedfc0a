"""Read side of ingest sessions, for the CLI and the API (progress and receipts)."""

from __future__ import annotations

from typing import Any

from liuhen.runtime import Runtime

_COLS = (
    "id, recorder_key, device_serial, dock_path, port, status, started_at, finished_at, updated_at, "
    "files_total, files_done, bytes_total, bytes_done, safe_to_wipe, flags, error, receipt_event_id"
)


def list_sessions(runtime: Runtime, *, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
    """Recent sessions, newest first, with progress counters (files/bytes done of total)."""
    if status:
        return runtime.catalog.all(
            f"SELECT {_COLS} FROM ingest_sessions WHERE status = %s ORDER BY id DESC LIMIT %s", (status, limit)
        )
    return runtime.catalog.all(f"SELECT {_COLS} FROM ingest_sessions ORDER BY id DESC LIMIT %s", (limit,))


def get_session(runtime: Runtime, session_id: int) -> dict[str, Any] | None:
    return runtime.catalog.one(f"SELECT {_COLS} FROM ingest_sessions WHERE id = %s", (session_id,))
