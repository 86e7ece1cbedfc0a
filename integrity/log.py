"""The append-only audit log in PostgreSQL.

Ways in, all durable before they return (I8: acknowledged = committed):

* ``record(conn, event)`` inserts the event as *pending* inside the caller's own transaction, so it
  commits (or not) together with the rows it describes. It gets its log index when the sequencer
  next runs (``sequence``; ``append`` and checkpoint publication run it too).
* ``append`` / ``append_many`` commit the events and return their indices.
* ``sequencing_tx(catalog)`` is a caller's transaction that may sequence before it commits
  (``try_sequence``): its rows, their events and the indices commit together when the lock is free.

The sequencer is one transaction at a time under a PostgreSQL advisory lock (``SEQUENCER_LOCK``),
so indices are gapless and ordered no matter how many processes write. Each run takes pending rows
in batches (id order), computes leaf hashes and the O(log n) new subtree hashes per leaf from the
in-memory compact range, and writes them with one UPDATE + one COPY per batch. Pending rows are
already committed, so a crash at any point loses nothing: the next run picks them up.

Concurrent writers (group commit, ``append_many``): a writer *tries* the sequencer lock. If it is
free, the writer is the sequencer: it sequences everyone's pending rows, inserts its own events with
their indices and commits — one transaction, one WAL flush. If another writer holds the lock (and is
perhaps waiting for its commit to reach disk), the writer does not queue behind it: it inserts its
events into ``log_inbox`` and commits at once (durable; these commits run in parallel and PostgreSQL
flushes them together), then waits for the lock *shared* — all waiters wake together when the
sequencer commits — and checks whether its events got indices. If not, it takes the lock exclusively
and sequences every pending event, its own and those of everyone who queued meanwhile: one sequencing
transaction and one flush for many writers' batches. Sequencing moves an inbox row into ``log_events``
(same id) in the transaction that deletes it, so an event is in exactly one table at any commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from liuhen.catalog.db import Catalog
from liuhen.integrity import rfc6962, tree
from liuhen.integrity.events import Event
from liuhen.integrity.rfc6962 import LEAF_PREFIX, Node  # noqa: F401  (LEAF_PREFIX re-exported)

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
    """Insert ``event`` (stamped with the current origin) as pending in the caller's transaction; its id."""
    event = event.stamped()
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


# Size, then the next pending rows of both kinds (record()'s rows in log_events, append_many()'s in
# log_inbox), in one round trip. kind 0 = the size row, 1 = log_events, 2 = log_inbox.
_PENDING = (
    "SELECT 0 AS kind, size AS id, NULL::bytea AS body FROM log_state "
    "UNION ALL (SELECT 1, id, body FROM log_events WHERE idx IS NULL ORDER BY id LIMIT %(n)s) "
    "UNION ALL (SELECT 2, id, body FROM log_inbox ORDER BY id LIMIT %(n)s)"
)
# Move inbox rows into the log: delete and insert in one statement (the bodies never leave the server).
_MOVE = (
    "WITH v AS (SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bytea[]) AS v(id, idx, h)), "
    "moved AS (DELETE FROM log_inbox i USING v WHERE i.id = v.id "
    "RETURNING i.id, i.body, i.type, i.actor, i.subject_sha256, i.case_no, i.created_at, v.idx, v.h) "
    "INSERT INTO log_events (id, body, type, actor, subject_sha256, case_no, created_at, idx, leaf_hash) "
    "SELECT id, body, type, actor, subject_sha256, case_no, created_at, idx, h FROM moved"
)
# "e.idx IS NULL" lets the planner read the small partial index of pending rows instead of hash-joining
# against a sequential scan of the whole (ever-growing) table.
_UPDATE = (
    "UPDATE log_events e SET idx = v.idx, leaf_hash = v.h "
    "FROM unnest(%b::bigint[], %b::bigint[], %b::bytea[]) AS v(id, idx, h) "
    "WHERE e.id = v.id AND e.idx IS NULL"
)


def _sequence_locked(
    conn: psycopg.Connection[Any],
    key: str,
    batch: int,
    known: tuple[int, Frontier] | None = None,
    assigned: dict[int, int] | None = None,
) -> tuple[int, Frontier]:
    """Sequence every visible pending event (log_events and log_inbox, in id order).

    Caller holds the sequencer lock. ``known``: the (size, frontier) this transaction itself left
    (not yet committed, so never in the shared cache). ``assigned`` collects {event id: index}.
    """
    size: int | None = None
    front: Frontier = []
    while True:
        rows = conn.execute(_PENDING, {"n": batch}, binary=True).fetchall()
        if size is None:
            size = int(next(r["id"] for r in rows if r["kind"] == 0))
            front = list(known[1]) if known is not None and known[0] == size else _frontier(conn, key, size)
        own = [r for r in rows if r["kind"] == 1]
        inbox = [r for r in rows if r["kind"] == 2]
        if not own and not inbox:
            return size, front
        # A source that hit the limit may hold more rows below the other's last id: stop at its last id.
        cutoff = min([s[-1]["id"] for s in (own, inbox) if len(s) == batch], default=None)
        todo = sorted((r for r in own + inbox if cutoff is None or r["id"] <= cutoff), key=lambda r: r["id"])
        hashes = [rfc6962.leaf_hash(bytes(r["body"])) for r in todo]
        cols: dict[int, tuple[list[int], list[int], list[bytes]]] = {1: ([], [], []), 2: ([], [], [])}
        for k, (r, h) in enumerate(zip(todo, hashes, strict=True)):
            ids, idxs, hs = cols[r["kind"]]
            ids.append(int(r["id"]))
            idxs.append(size + k)
            hs.append(h)
            if assigned is not None:
                assigned[int(r["id"])] = size + k
        for kind, sql in ((1, _UPDATE), (2, _MOVE)):
            if cols[kind][0]:
                done = conn.execute(sql, cols[kind]).rowcount
                if done != len(cols[kind][0]):  # we hold the lock, so this would be a bug; never leave a gap
                    raise RuntimeError(f"sequencer wrote {done} of {len(cols[kind][0])} pending events; rolled back")
        front = _advance(conn, size, front, hashes)
        size += len(todo)
        if cutoff is None:  # neither source was cut short: every row pending at the query is done
            return size, front


def sequence(catalog: Catalog, batch: int = 5000) -> int:
    """Assign indices to pending events; return the tree size afterwards."""
    with catalog.tx() as conn:
        _lock(conn)
        size, front = _sequence_locked(conn, catalog.url, batch)
    _remember(catalog.url, size, front)
    return size


class SequencingTx:
    """A caller's transaction that sequences the log itself before it commits (``sequencing_tx``).

    ``try_sequence()`` takes the sequencer lock if it is free (it is then held until the commit) and
    indexes every visible pending event, the transaction's own included: rows, their events and the
    events' indices commit together — one commit (one WAL flush) where ``record`` then ``sequence``
    take two. If another transaction holds the lock, it returns False at once and the caller commits
    its events as pending and waits for them afterwards (``await_sequenced``), together with everyone
    else who queued meanwhile — the group commit of ``append_many``; holding the lock while waiting for
    it would serialise every writer's commit behind the sequencer's.
    """

    def __init__(self, conn: psycopg.Connection[Any], key: str) -> None:
        self.conn = conn
        self._key = key
        self.state: tuple[int, Frontier] | None = None  # (size, frontier) after the last try_sequence()
        self.assigned: dict[int, int] = {}  # {event id: index} given by this transaction

    def try_sequence(self) -> bool:
        """Index every pending event visible to this transaction, if the sequencer lock is (or can be
        taken) ours; False, having done nothing, if another transaction holds it."""
        if self.state is None and not _try_lock(self.conn):
            return False
        self.state = _sequence_locked(self.conn, self._key, 5000, known=self.state, assigned=self.assigned)
        return True


@contextmanager
def sequencing_tx(catalog: Catalog) -> Iterator[SequencingTx]:
    """``catalog.tx()`` whose body may call ``try_sequence()``; the frontier is cached only once committed."""
    with catalog.tx() as conn:
        stx = SequencingTx(conn, catalog.url)
        yield stx
    if stx.state is not None:
        _remember(catalog.url, *stx.state)


def _try_lock(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (SEQUENCER_LOCK,)).fetchone()
    return bool(row and row["ok"])


# Array parameters go in binary (%b): half the time of text arrays (no hex bytea on either side).
_INSERT = (
    "INSERT INTO log_events (body, type, actor, subject_sha256, case_no, idx, leaf_hash) "
    "SELECT * FROM unnest(%b::bytea[], %b::text[], %b::text[], %b::text[], %b::text[], "
    "%b::bigint[], %b::bytea[]) RETURNING id, idx"
)


_INBOX = (
    "INSERT INTO log_inbox (body, type, actor, subject_sha256, case_no) "
    "SELECT * FROM unnest(%b::bytea[], %b::text[], %b::text[], %b::text[], %b::text[]) RETURNING id"
)


def _indices(conn: psycopg.Connection[Any], ids: Sequence[int]) -> list[tuple[int, int]] | None:
    """[(id, idx)] in id order if every one of ``ids`` is sequenced, else None."""
    rows = conn.execute(
        "SELECT id, idx FROM log_events WHERE id = ANY(%b::bigint[]) ORDER BY id", (list(ids),)
    ).fetchall()
    if len(rows) != len(ids) or any(r["idx"] is None for r in rows):
        return None
    return [(int(r["id"]), int(r["idx"])) for r in rows]


def await_sequenced(catalog: Catalog, ids: Sequence[int]) -> list[tuple[int, int]]:
    """Wait until the committed events ``ids`` have indices, sequencing them if need be; [(id, idx)].

    The waiting is shared: every writer whose events are pending wakes at the sequencer's commit, and
    only one whose events that run did not cover becomes the next sequencer (for everyone's)."""
    if not ids:
        return []
    # 1. Wait for whoever holds the sequencer now; shared, so every waiter wakes at its commit.
    with catalog.tx() as conn:
        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (SEQUENCER_LOCK,))
        got = _indices(conn, ids)
    if got is not None:
        return got
    # 2. Not covered by that run: be the sequencer (or wait for the one already queued, then check).
    with catalog.tx() as conn:
        _lock(conn)
        got = _indices(conn, ids)
        if got is not None:
            return got
        size, front = _sequence_locked(conn, catalog.url, 5000)
        got = _indices(conn, ids)
    _remember(catalog.url, size, front)
    if got is None:  # our rows committed before we took the lock, so this cannot happen
        raise RuntimeError(f"audit events {list(ids)[:5]} are still pending after a sequencer run")
    return got


def append_many(catalog: Catalog, events: Sequence[Event]) -> list[tuple[int, int]]:
    """Commit ``events`` as leaves of the log, in order; return [(event id, index)] in event order.

    Returns only after the events are committed with their indices (I8). When no one else is
    sequencing, this is one transaction and one WAL flush for the whole batch (and for any pending
    events of others, sequenced first). Under contention the batch is committed as pending and
    sequenced in a group with other writers' batches (see the module docstring): its indices then
    keep the batch's order but may interleave with another concurrent batch.
    """
    if not events:
        return []
    events = [e.stamped() for e in events]
    bodies = [e.leaf_bytes() for e in events]
    hashes = [rfc6962.leaf_hash(b) for b in bodies]
    cols = [_subject_cols(e) for e in events]
    n = len(events)
    args = [bodies, [e.type for e in events], [e.actor for e in events], [c[0] for c in cols], [c[1] for c in cols]]
    with catalog.tx() as conn:
        leader = _try_lock(conn)
        if leader:
            size, front = _sequence_locked(conn, catalog.url, 5000)
            rows = conn.execute(_INSERT, (*args, list(range(size, size + n)), hashes)).fetchall()
            front = _advance(conn, size, front, hashes)
            size += n
        else:
            rows = conn.execute(_INBOX, args).fetchall()
    if leader:
        _remember(catalog.url, size, front)
        return sorted(((int(r["id"]), int(r["idx"])) for r in rows), key=lambda t: t[1])
    # Committed (durable) as pending; ids grow in event order, and the sequencer goes by id.
    return await_sequenced(catalog, sorted(int(r["id"]) for r in rows))


def append(catalog: Catalog, event: Event) -> tuple[int, int]:
    """Commit one event and return (event id, log index) — ``append_many`` of one."""
    return append_many(catalog, [event])[0]


def index_of(catalog: Catalog, event_id: int) -> int | None:
    row = catalog.one("SELECT idx FROM log_events WHERE id = %s", (event_id,))
    return None if row is None or row["idx"] is None else int(row["idx"])


def size(catalog: Catalog) -> int:
    """Current tree size (sequenced leaves); one autocommit statement."""
    return tree.current_size(catalog)


def pending_count(catalog: Catalog) -> int:
    """Committed events still waiting for an index (``record()``'s and ``append_many()``'s inbox)."""
    row = catalog.one(
        "SELECT (SELECT count(*) FROM log_events WHERE idx IS NULL) + (SELECT count(*) FROM log_inbox) AS n"
    )
    return int(row["n"]) if row else 0


def root(catalog: Catalog, size: int | None = None) -> bytes:
    """Root hash at ``size`` (default current) from O(log n) stored subtree hashes (cached reads)."""
    n = tree.current_size(catalog) if size is None else size
    if n < 0:
        raise ValueError(f"tree size {n} is negative")
    front = rfc6962.perfect_subtrees(0, n)
    nodes = tree.nodes_at(catalog, n, front)
    return rfc6962.fold([nodes[x] for x in front])


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
