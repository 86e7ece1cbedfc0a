"""Helpers for the case-file tests: audit events by type, originals whose retention ran out, a quick case."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from liuhen.cases import service as cases
from liuhen.cases.principal import Principal
from liuhen.storage.base import key_for

SUP = Principal("sup1", "supervisor", "U1")
CLERK = Principal("clerk1", "clerk", "U1")


def events(runtime: Any, type_: str) -> list[dict[str, Any]]:
    """The audit events of ``type_`` in log order, each with its ``data`` decoded."""
    rows = runtime.catalog.all("SELECT * FROM log_events WHERE type = %s ORDER BY id", (type_,))
    for r in rows:
        r["data"] = json.loads(bytes(r["body"]))["data"]
    return rows


def expiring_file(runtime: Any, path: Path, seconds: float = 1.5) -> dict[str, Any]:
    """Store ``path`` as an original whose retention runs out in ``seconds`` (store) / has run out (catalog)."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = key_for(sha)
    runtime.store.put(
        key, path, sha256=sha, size=len(data), retain_until=datetime.now(UTC) + timedelta(seconds=seconds)
    )
    row = runtime.catalog.one(
        "INSERT INTO files (sha256, size, media_kind, storage_key, retention_until, media_status) "
        "VALUES (%s, %s, 'video', %s, now() - interval '1 second', 'ok') RETURNING *",
        (sha, len(data), key),
    )
    assert row is not None
    return row


def new_case(runtime: Any, no: str, **kw: Any) -> None:
    cases.create_case(runtime, case_no=no, agency="A", subject="S", case_type="penalty", actor="clerk1", **kw)
