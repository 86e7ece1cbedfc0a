"""Cutting feed batches (``liuhen.feed/v1``, see ``feed_format``) from the audit log.

A batch answers a cursor ``v1:<next>:<known>``: leaves ``[next, min(next + limit, N))`` where ``N`` is
the latest published checkpoint, the consistency proof ``known → N`` (omitted for ``known = 0``) and
the prefix proof ``end → N``. Access events are sent as hashes; ``derived`` carries their counts for
the batch's range (access statistics). Reads O(limit) leaves and O(log N) stored hashes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from liuhen.integrity import checkpoint, proof
from liuhen.integrity import log as auditlog
from liuhen.publication.errors import FeedNotServable
from liuhen.publication.feed_format import Batch, Cursor, Item, Proof, withheld
from liuhen.runtime import Runtime

MAX_LIMIT = 5000


def _proof(rt: Runtime, old: int, new: int) -> Proof:
    hashes = proof.consistency_proof(rt.catalog, old, new) if 0 < old < new else []
    return Proof(old, new, tuple(hashes))


def build_batch(rt: Runtime, cursor: Cursor, limit: int = 500, *, size: int | None = None) -> Batch:
    """The batch answering ``cursor`` at the latest published checkpoint, or at the one of ``size`` (a push
    retry resends exactly the same batch). ``FeedNotServable`` (409) if the log cannot answer it."""
    cp = checkpoint.latest(rt.catalog) if size is None else checkpoint.at_size(rt.catalog, size)
    if cp is None:
        raise FeedNotServable("no checkpoint has been published yet; nothing can be served verifiably"
                              if size is None else f"no published checkpoint of size {size}")
    n = cp.size
    if cursor.known > n or cursor.next > n:
        raise FeedNotServable(
            f"cursor {cursor.text()} is ahead of the latest checkpoint (size {n}): not a cursor of this log")
    end = min(cursor.next + max(1, min(limit, MAX_LIMIT)), n)
    items, counts = [], Counter[str]()
    for leaf in auditlog.iter_leaves(rt.catalog, cursor.next, end):
        t = leaf.event.type
        if withheld(t):
            items.append(Item(leaf.idx, t, leaf_hash=leaf.leaf_hash))
            counts[t] += 1
        else:
            items.append(Item(leaf.idx, t, leaf=leaf.body))
    derived: list[dict[str, Any]] = [{"kind": "access_stats", "from": cursor.next, "to": end,
                                      "counts": dict(sorted(counts.items()))}]
    return Batch(cp.origin, cursor.next, end, tuple(items), cp.note, n, _proof(rt, end, n),
                 _proof(rt, cursor.known, n) if cursor.known else None, tuple(derived), cursor.known)
