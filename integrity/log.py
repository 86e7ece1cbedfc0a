"""The append-only audit log in PostgreSQL.

Two ways in, both durable before they return (I8: acknowledged = committed):

* ``record(conn, event)`` inserts the event as *pending* inside the caller's own transaction, so it
  commits (or not) together with the rows it describes. It gets its log index when the sequencer
  next runs (``sequence``; ``append`` and checkpoint publication run it too).
* ``append`` / ``append_many`` commit the events and get their indices.

The sequencer is one transaction at a time under a PostgreSQL advisory lock (``SEQUENCER_LOCK``),
so indices are gapless and ordered no matter how many processes write. Each run takes pending rows
in batches (id order), computes leaf hashes and the O(log n) new subtree hashes per leaf from the
in-memory compact range, and writes them with one UPDATE + one COPY per batch. Pending rows are
already committed, so a crash at any point loses nothing: the next run picks them up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from catalog.db import Catalog
from integrity import rfc6962, tree
from integrity.events import Event
from integrity.rfc6962 import LEAF_PREFIX, Node  # noqa: F401  (LEAF_PREFIX re-exported)

SEQUENCER_LOCK = 0x4C4F_4753  # "LOGS"
Frontier = list[tuple[Node, bytes]]

# Compact range of the tree at a committed size, per database. A frontier for a committed size
# never changes (I6), so a cached one is valid whenever the stored size equals its size.
_frontiers: dict[str, tuple[int, Frontier]] = {}
_frontiers_lock = threading.Lock()


@dataclass(frozen=True)
class Leaf:
    idx: int
    event_id: int
    body: bytes
    leaf_hash: bytes
    created_at: Any = None

    @property
    def event(self) -> Event:
        return Event.from_leaf(self.body)


def _subject_cols(event: Event) -> tuple[str | None, str | None]:
    subj = event.subject if isinstance(event.subject, dict) else {}
    sha = subj.get("sha256")
    case_no = subj.get("case")
    return (sha if isinstance(sha, str) else None, case_no if isinstance(case_no, str) else None)


def record(conn: psycopg.Connection[Any], event: Event) -> int:
    """Insert ``event`` as pending in the caller's transaction; return its event id."""
    subj, case_no = _subject_cols(event)
    row = conn.execute(
        "INSERT INTO log_events (body, type, actor, subject_sha256, case_no) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (event.leaf_bytes(), event.type, event.actor, subj, case_no),
    ).fetchone()
    assert row is not None
    return int(row["id"] if isinstance(row, dict) else row[0])


def _lock(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEQUENCER_LOCK,))


def _frontier(conn: psycopg.Connection[Any], key: str, size: int) -> Frontier:
    with _frontiers_lock:
        cached = _frontiers.get(key)
    if cached is not None and cached[0] == size:
        return list(cached[1])
    return tree.frontier(conn, size)


def _remember(key: str, size: int, front: Frontier) -> None:
    with _frontiers_lock:
        _frontiers[key] = (size, list(front))


def _advance(conn: psycopg.Connection[Any], size: int, front: Frontier, hashes: Sequence[bytes]) -> Frontier:
    front, created = rfc6962.extend(front, size, hashes)
    tree.store_nodes(conn, created)
    conn.execute("UPDATE log_state SET size = %s", (size + len(hashes),))
    return front


def _sequence_locked(conn: psycopg.Connection[Any], key: str, batch: int) -> tuple[int, Frontier]:
    """Sequence every visible pending event. Caller holds the sequencer lock."""
    size = tree.stored_size(conn)
    front = _frontier(conn, key, size)
    while True:
        pending = conn.execute(
            "SELECT id, body FROM log_events WHERE idx IS NULL ORDER BY id LIMIT %s", (batch,)
        ).fetchall()
        if not pending:
            return size, front
        ids = [int(p["id"]) for p in pending]
        hashes = [rfc6962.leaf_hash(bytes(p["body"])) for p in pending]
        conn.execute(
            "UPDATE log_events e SET idx = v.idx, leaf_hash = v.h "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[]) AS v(id, idx, h) WHERE e.id = v.id",
            (ids, list(range(size, size + len(ids))), hashes),
        )
        front = _advance(conn, size, front, hashes)
        size += len(ids)


def sequence(catalog: Catalog, batch: int = 5000) -> int:
    """Assign indices to pending events; return the tree size afterwards."""
    with catalog.tx() as conn:
        _lock(conn)
        size, front = _sequence_locked(conn, catalog.url, batch)
    _remember(catalog.url, size, front)
    return size


def append_many(catalog: Catalog, events: Sequence[Event]) -> list[tuple[int, int]]:
    """Commit ``events`` as consecutive leaves in one transaction; return [(event id, index)].

    Pending events recorded by others are sequenced first, in the same transaction. One commit
    (one WAL flush) for the whole batch — the throughput path for bulk writers.
    """
    if not events:
        return []
    bodies = [e.leaf_bytes() for e in events]
    hashes = [rfc6962.leaf_hash(b) for b in bodies]
    cols = [_subject_cols(e) for e in events]
    with catalog.tx() as conn:
        _lock(conn)
        size, front = _sequence_locked(conn, catalog.url, 5000)
        rows = conn.execute(
            "INSERT INTO log_events (body, type, actor, subject_sha256, case_no, idx, leaf_hash) "
            "SELECT * FROM unnest(%s::bytea[], %s::text[], %s::text[], %s::text[], %s::text[], "
            "%s::bigint[], %s::bytea[]) RETURNING id, idx",
            (
                bodies,
                [e.type for e in events],
                [e.actor for e in events],
                [c[0] for c in cols],
                [c[1] for c in cols],
                list(range(size, size + len(events))),
                hashes,
            ),
        ).fetchall()
        front = _advance(conn, size, front, hashes)
        size += len(events)
    _remember(catalog.url, size, front)
    return sorted(((int(r["id"]), int(r["idx"])) for r in rows), key=lambda t: t[1])


def append(catalog: Catalog, event: Event) -> tuple[int, int]:
    """Record and sequence one event; return (event id, log index).

    The event is committed as pending first (so it is durable even if sequencing is slow), then the
    caller waits for the sequencer lock; whoever holds it sequences every pending event, so many
    concurrent ``append`` calls share one sequencing transaction (group commit).
    """
    with catalog.tx() as conn:
        event_id = record(conn, event)
    while True:
        with catalog.tx() as conn:
            _lock(conn)
            row = conn.execute("SELECT idx FROM log_events WHERE id = %s", (event_id,)).fetchone()
            if row is not None and row["idx"] is not None:
                return event_id, int(row["idx"])
            size, front = _sequence_locked(conn, catalog.url, 5000)
        _remember(catalog.url, size, front)


def index_of(catalog: Catalog, event_id: int) -> int | None:
    row = catalog.one("SELECT idx FROM log_events WHERE id = %s", (event_id,))
    return None if row is None or row["idx"] is None else int(row["idx"])


def size(catalog: Catalog) -> int:
    """Current tree size (sequenced leaves)."""
    with catalog.tx() as conn:
        return tree.stored_size(conn)


def pending_count(catalog: Catalog) -> int:
    row = catalog.one("SELECT count(*) AS n FROM log_events WHERE idx IS NULL")
    return int(row["n"]) if row else 0


def root(catalog: Catalog, size: int | None = None) -> bytes:
    """Root hash at ``size`` (default current) from O(log n) stored subtree hashes."""
    with catalog.tx() as conn:
        n = tree.stored_size(conn) if size is None else size
        if n < 0 or n > tree.stored_size(conn):
            raise ValueError(f"tree size {n} is beyond the log (size {tree.stored_size(conn)})")
        return tree.root_at(conn, n)


def _leaf(r: dict[str, Any]) -> Leaf:
    return Leaf(int(r["idx"]), int(r["id"]), bytes(r["body"]), bytes(r["leaf_hash"]), r["created_at"])


def leaf(catalog: Catalog, idx: int) -> Leaf:
    """Leaf ``idx`` with its exact bytes; ``LookupError`` if the log is shorter."""
    r = catalog.one(
        "SELECT idx, id, body, leaf_hash, created_at FROM log_events WHERE idx = %s", (idx,)
    )
    if r is None:
        raise LookupError(f"no leaf at index {idx} (log size {size(catalog)})")
    return _leaf(r)


def leaf_for_event(catalog: Catalog, event_id: int) -> Leaf | None:
    r = catalog.one(
        "SELECT idx, id, body, leaf_hash, created_at FROM log_events WHERE id = %s AND idx IS NOT NULL",
        (event_id,),
    )
    return None if r is None else _leaf(r)


def iter_leaves(catalog: Catalog, start: int = 0, end: int | None = None, chunk: int = 20000):  # type: ignore[no-untyped-def]
    """Yield leaves ``[start, end)`` in index order, reading in chunks (for full audits only)."""
    end = size(catalog) if end is None else end
    pos = start
    while pos < end:
        rows = catalog.all(
            "SELECT idx, id, body, leaf_hash, created_at FROM log_events "
            "WHERE idx >= %s AND idx < %s ORDER BY idx",
            (pos, min(end, pos + chunk)),
        )
        if not rows:
            break
        for r in rows:
            yield _leaf(r)
        pos = int(rows[-1]["idx"]) + 1


def run_sequencer(catalog: Catalog, stop: threading.Event, interval_s: float = 0.5) -> None:
    """Background loop: sequence pending events every ``interval_s`` until ``stop`` is set."""
    while not stop.is_set():
        try:
            if pending_count(catalog):
                sequence(catalog)
        except Exception:  # keep the loop alive; the next round retries
            time.sleep(interval_s)
        stop.wait(interval_s)
