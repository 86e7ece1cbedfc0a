"""The append-only audit log in PostgreSQL.

Writers call ``record(conn, event)`` inside their own transaction, so the event commits (or not)
with the rows it describes (I8: acknowledged = committed). ``sequence(catalog)`` — one sequencer at
a time under an advisory lock — gives pending events gapless indices in id order.
"""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg

from catalog.db import Catalog
from integrity.events import Event

SEQUENCER_LOCK = 0x4C4F_4753  # "LOGS"
LEAF_PREFIX = b"\x00"


def record(conn: psycopg.Connection[Any], event: Event) -> int:
    """Insert ``event`` as pending in the caller's transaction; return its event id."""
    subj = event.subject.get("sha256") if isinstance(event.subject, dict) else None
    case_no = event.subject.get("case") if isinstance(event.subject, dict) else None
    row = conn.execute(
        "INSERT INTO log_events (body, type, actor, subject_sha256, case_no) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (event.leaf_bytes(), event.type, event.actor, subj, case_no),
    ).fetchone()
    assert row is not None
    return int(row["id"] if isinstance(row, dict) else row[0])


def sequence(catalog: Catalog, batch: int = 5000) -> int:
    """Assign indices to pending events; return the tree size afterwards."""
    with catalog.tx() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEQUENCER_LOCK,))
        row = conn.execute("SELECT coalesce(max(idx) + 1, 0) AS n FROM log_events").fetchone()
        size = int(row["n"]) if row else 0
        while True:
            pending = conn.execute(
                "SELECT id, body FROM log_events WHERE idx IS NULL ORDER BY id LIMIT %s", (batch,)
            ).fetchall()
            if not pending:
                break
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE log_events SET idx = %s, leaf_hash = %s WHERE id = %s",
                    [
                        (size + i, hashlib.sha256(LEAF_PREFIX + bytes(p["body"])).digest(), p["id"])
                        for i, p in enumerate(pending)
                    ],
                )
            size += len(pending)
        return size


def append(catalog: Catalog, event: Event) -> tuple[int, int]:
    """Record and sequence one event; return (event id, log index)."""
    with catalog.tx() as conn:
        event_id = record(conn, event)
    sequence(catalog)
    idx = index_of(catalog, event_id)
    assert idx is not None
    return event_id, idx


def index_of(catalog: Catalog, event_id: int) -> int | None:
    row = catalog.one("SELECT idx FROM log_events WHERE id = %s", (event_id,))
    return None if row is None or row["idx"] is None else int(row["idx"])
