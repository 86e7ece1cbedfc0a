"""The persisted Merkle tree: stored perfect-subtree hashes in PostgreSQL.

Level-0 hashes (leaves) live in ``log_events.leaf_hash``; every complete subtree of height ≥ 1 is one
row of ``log_nodes``. Reading a root or a proof fetches the O(log n) nodes named by the pure core
(``rfc6962.nodes_for``); appending writes the O(log n) nodes ``rfc6962.extend`` creates.

Read path for proofs and roots (``nodes_at``): **one round trip** — a single prepared statement, run
in autocommit (no BEGIN/COMMIT), returns the tree size and every node asked for from one snapshot.
In front of it sits ``NodeCache``, one per ``Catalog``: a complete perfect subtree's hash never
changes once stored (I6), and the tree size never shrinks, so a node read once can be served again
without asking PostgreSQL. A proof whose nodes are all cached and whose size is ≤ the largest size
already seen costs no round trip. Audits (``integrity.audit``) and checkpoint signing never use the
cache: they read inside their own transaction.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import PoolTimeout

from liuhen.catalog.db import Catalog
from liuhen.catalog.errors import CatalogUnavailable
from liuhen.integrity import rfc6962
from liuhen.integrity.errors import TreeCorrupt
from liuhen.integrity.rfc6962 import Node

Conn = psycopg.Connection[Any]


def _val(row: Any, key: str, pos: int) -> Any:
    return row[key] if isinstance(row, dict) else row[pos]


def stored_size(conn: Conn) -> int:
    row = conn.execute("SELECT size FROM log_state").fetchone()
    return 0 if row is None else int(_val(row, "size", 0))


def fetch_nodes(conn: Conn, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """Hashes of the given perfect subtrees, in one round trip; ``TreeCorrupt`` if any is missing."""
    wanted = list(dict.fromkeys(nodes))
    leaves = [i for lvl, i in wanted if lvl == 0]
    inner = [(lvl, i) for lvl, i in wanted if lvl > 0]
    out: dict[Node, bytes] = {}
    if leaves or inner:
        rows = conn.execute(
            "SELECT 0 AS level, idx, leaf_hash AS hash FROM log_events WHERE idx = ANY(%s) "
            "UNION ALL "
            "SELECT n.level, n.idx, n.hash FROM log_nodes n "
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) "
            "ON n.level = w.level AND n.idx = w.idx",
            (leaves, [lv for lv, _ in inner], [i for _, i in inner]),
        ).fetchall()
        for r in rows:
            out[(int(_val(r, "level", 0)), int(_val(r, "idx", 1)))] = bytes(_val(r, "hash", 2))
    missing = [n for n in wanted if n not in out]
    if missing:
        raise TreeCorrupt(f"stored tree is missing subtree hashes {missing[:5]} (of {len(missing)})")
    return out


def frontier(conn: Conn, size: int) -> list[tuple[Node, bytes]]:
    """The compact range of ``[0, size)``: its perfect subtrees with their hashes, left to right."""
    nodes = rfc6962.perfect_subtrees(0, size)
    got = fetch_nodes(conn, nodes)
    return [(n, got[n]) for n in nodes]


def root_at(conn: Conn, size: int) -> bytes:
    """Root hash of the first ``size`` leaves (O(log n) stored hashes)."""
    return rfc6962.fold([h for _, h in frontier(conn, size)])


def range_hashes(conn: Conn, ranges: Sequence[rfc6962.Range]) -> list[bytes]:
    return rfc6962.hashes_from_nodes(ranges, fetch_nodes(conn, rfc6962.nodes_for(ranges)))


def store_nodes(conn: Conn, created: Sequence[tuple[Node, bytes]]) -> None:
    """Write the level ≥ 1 nodes of ``created`` (level 0 lives with the leaf row)."""
    inner = [(lvl, i, h) for (lvl, i), h in created if lvl > 0]
    if not inner:
        return
    with conn.cursor().copy("COPY log_nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int2", "int8", "bytea"])
        for row in inner:
            cp.write_row(row)


# ----- one-round-trip reads (proofs, roots) with an in-process cache of immutable nodes -----

# Row -1 carries the tree size; rows 0.. are the nodes. One statement = one snapshot, so the size and
# the nodes agree even while the sequencer commits.
_SNAPSHOT_SQL = (
    "SELECT -1::smallint AS level, size AS idx, NULL::bytea AS hash FROM log_state "
    "UNION ALL "
    "SELECT 0::smallint, idx, leaf_hash FROM log_events WHERE idx = ANY(%b::bigint[]) "
    "UNION ALL "
    "SELECT n.level, n.idx, n.hash FROM log_nodes n "
    "JOIN unnest(%b::smallint[], %b::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx"
)

CACHE_NODES = 1 << 17  # ~131k nodes per log, ~20 MB: every upper level of a 10^9 tree and many proofs


class NodeCache:
    """Hashes of complete perfect subtrees already read from one log, plus the largest size seen.

    Safe to serve without asking PostgreSQL because both only ever grow: a stored subtree hash is
    immutable (I6; triggers refuse UPDATE/DELETE and ``audit verify`` recomputes them), and
    ``log_state.size`` never decreases. LRU-bounded to ``capacity`` nodes. Thread-safe.
    """

    def __init__(self, capacity: int = CACHE_NODES) -> None:
        self.capacity = capacity
        self.size = 0  # largest committed tree size observed
        self.hits = 0
        self.misses = 0
        self._nodes: OrderedDict[Node, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, nodes: Sequence[Node]) -> tuple[dict[Node, bytes], list[Node]]:
        found: dict[Node, bytes] = {}
        missing: list[Node] = []
        with self._lock:
            for n in nodes:
                h = self._nodes.get(n)
                if h is None:
                    missing.append(n)
                else:
                    self._nodes.move_to_end(n)
                    found[n] = h
            self.hits += len(found)
            self.misses += len(missing)
        return found, missing

    def store(self, nodes: dict[Node, bytes], size: int) -> None:
        with self._lock:
            self.size = max(self.size, size)
            for n, h in nodes.items():
                self._nodes[n] = h
                self._nodes.move_to_end(n)
            while len(self._nodes) > self.capacity:
                self._nodes.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._nodes.clear()
            self.size = self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._nodes)


_caches: weakref.WeakKeyDictionary[Catalog, NodeCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def node_cache(catalog: Catalog) -> NodeCache:
    """The node cache of ``catalog``'s log (created on first use, dropped with the Catalog)."""
    with _caches_lock:
        c = _caches.get(catalog)
        if c is None:
            c = _caches[catalog] = NodeCache()
        return c


@contextmanager
def autocommit(catalog: Catalog) -> Iterator[Conn]:
    """A pooled connection in autocommit mode for single-statement reads (no BEGIN/COMMIT)."""
    try:
        with catalog.pool.connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                try:
                    conn.autocommit = False
                except psycopg.Error:  # broken connection: the pool discards it
                    pass
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise CatalogUnavailable(f"PostgreSQL unavailable: {exc}") from exc


def snapshot(catalog: Catalog, nodes: Sequence[Node]) -> tuple[int, dict[Node, bytes]]:
    """(current tree size, hashes of those ``nodes`` that are stored) — one prepared statement."""
    leaves = [i for lvl, i in nodes if lvl == 0]
    inner = [(lvl, i) for lvl, i in nodes if lvl > 0]
    with autocommit(catalog) as conn:
        rows = (
            conn.cursor(row_factory=tuple_row)
            .execute(_SNAPSHOT_SQL, (leaves, [lv for lv, _ in inner], [i for _, i in inner]), prepare=True, binary=True)
            .fetchall()
        )
    size = 0
    out: dict[Node, bytes] = {}
    for level, idx, h in rows:
        if level < 0:
            size = int(idx)
        else:
            out[(int(level), int(idx))] = bytes(h)
    return size, out


def current_size(catalog: Catalog) -> int:
    """Tree size now (one autocommit statement); also advances the cache's known size."""
    size, _ = snapshot(catalog, [])
    node_cache(catalog).store({}, size)
    return size


def nodes_at(catalog: Catalog, size: int, nodes: Iterable[Node], *, cached: bool = True) -> dict[Node, bytes]:
    """Hashes of ``nodes`` — all inside the first ``size`` leaves — for a proof or root at ``size``.

    ``ValueError`` if the log is shorter than ``size``; ``TreeCorrupt`` if a stored hash is missing.
    At most one round trip; none if ``cached`` and every node and the size are already known.
    """
    wanted = list(dict.fromkeys(nodes))
    cache = node_cache(catalog) if cached else None
    if cache is not None:
        found, missing = cache.lookup(wanted)
        if not missing and size <= cache.size:
            return found
    else:
        found, missing = {}, wanted
    stored, got = snapshot(catalog, missing)
    if size > stored:
        raise ValueError(f"tree size {size} is beyond the log (size {stored})")
    lost = [n for n in missing if n not in got]
    if lost:
        raise TreeCorrupt(f"stored tree is missing subtree hashes {lost[:5]} (of {len(lost)})")
    if cache is not None:
        cache.store(got, stored)
    found.update(got)
    return found
