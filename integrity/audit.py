"""Full audit of the log: recompute everything from the leaf bodies, check every checkpoint.

``verify_log`` streams every leaf once (O(n) time, O(log n) memory), recomputing leaf hashes, every
stored subtree hash and the root at every checkpointed size, and checks every checkpoint's
signature. It reports every problem it finds (not just the first), each naming what differed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liuhen.catalog.db import Catalog
from liuhen.core.codec import b64
from liuhen.integrity import checkpoint, rfc6962, tree
from liuhen.integrity import keys as logkeys
from liuhen.integrity.errors import MalformedKey, VerificationError

CHUNK = 20000


@dataclass
class AuditReport:
    size: int = 0
    leaves_checked: int = 0
    nodes_checked: int = 0
    checkpoints_checked: int = 0
    pending: int = 0
    root: str = ""
    trusted_keys: list[str] = field(default_factory=list)
    untrusted_keys: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why (not problems)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise VerificationError(f"audit log verification failed ({len(self.problems)} problems): "
                                    + "; ".join(self.problems[:5]))

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "size": self.size, "root": self.root, "leaves_checked": self.leaves_checked,
                "nodes_checked": self.nodes_checked, "checkpoints_checked": self.checkpoints_checked,
                "pending": self.pending, "trusted_keys": self.trusted_keys,
                "untrusted_keys": self.untrusted_keys, "problems": self.problems, "notes": self.notes}


def trusted_keys(catalog: Catalog, key_dir: Path | None = None, explicit: list[str] | None = None) -> list[str]:
    """Keys to check signatures with (``logkeys.key_trust``): the keys on disk in ``key_dir``
    and ``explicit``, plus keys reached from those through verified ``key.rotate`` endorsements.
    Rows of ``log_keys`` are never trusted merely for being there."""
    return logkeys.key_trust(catalog, key_dir, explicit or []).keys


def _check_columns(rep: AuditReport, i: int, r: dict[str, Any]) -> None:
    """The indexed columns (what lookups by type, subject or case use) must say what the body says."""
    try:
        d = json.loads(bytes(r["body"]))
        subj = d.get("subject") if isinstance(d.get("subject"), dict) else {}
        sha, case_no = subj.get("sha256"), subj.get("case")
        want = {"type": d.get("type"), "actor": d.get("actor"),
                "subject_sha256": sha if isinstance(sha, str) else None,
                "case_no": case_no if isinstance(case_no, str) else None}
    except (ValueError, AttributeError) as exc:
        rep.problems.append(f"leaf {i}: body is not an event: {exc}")
        return
    for col, val in want.items():
        if r[col] != val:
            rep.problems.append(f"leaf {i}: column {col} is {r[col]!r}, the leaf body says {val!r}")


def _inner_nodes_ending_in(a: int, b: int) -> tuple[list[int], list[int], list[int]]:
    """(levels, lo, hi): for each level >= 1, the node indices whose last leaf lies in [a, b)."""
    levels, lo, hi = [], [], []
    for lvl in range(1, 64):
        first = -(-(a + 1) // (1 << lvl)) - 1  # smallest i with (i+1)*2^l - 1 >= a
        last = (b >> lvl) - 1  # largest i with (i+1)*2^l - 1 <= b - 1
        if last < 0:
            break
        if first <= last:
            levels.append(lvl)
            lo.append(first)
            hi.append(last)
    return levels, lo, hi


def verify_log(catalog: Catalog, vkeys: list[str] | None = None, key_dir: Path | None = None) -> AuditReport:
    """Audit the whole log. Checkpoint signatures are checked against the trust anchors — the keys on
    disk in ``key_dir`` and ``vkeys`` — and keys endorsed from them by ``key.rotate`` events; every
    ``log_keys`` row outside that set is a problem (``logkeys.key_trust``). Every sequenced
    ``ingestion`` event must have its catalog ``files`` row."""
    rep = AuditReport()
    trust = logkeys.key_trust(catalog, key_dir, vkeys or [])
    rep.trusted_keys, rep.untrusted_keys = trust.keys, trust.untrusted
    rep.problems += trust.problems
    cps = checkpoint.all_checkpoints(catalog)
    if not trust.anchors and (cps or trust.untrusted):
        rep.problems.append("no trusted key: none on disk in the key directory and none given (pass --trusted-key)")
    elif not cps:
        # a data dir where only CLI commands ran: nothing is signed yet, so there is nothing to trust
        rep.notes.append("no checkpoint published yet: leaves and subtrees checked, no signatures to check")
    n = _check_state(catalog, rep)
    by_size = check_checkpoints(rep, cps, n)
    check_roots_at(rep, by_size, 0, rfc6962.EMPTY_ROOT)
    front: list[tuple[rfc6962.Node, bytes]] = []
    pos = 0
    while pos < n:
        rows = catalog.all(
            "SELECT idx, body, leaf_hash, type, actor, subject_sha256, case_no FROM log_events "
            "WHERE idx >= %s AND idx < %s ORDER BY idx",
            (pos, min(n, pos + CHUNK)),
        )
        if not rows:
            break
        hashes = check_leaves(rep, rows, pos)
        front, created = _extend(rep, by_size, front, pos, hashes)
        levels, lo, hi = _inner_nodes_ending_in(pos, pos + len(hashes))
        stored = catalog.all(
            "SELECT n.level, n.idx, n.hash FROM log_nodes n JOIN unnest(%s::smallint[], %s::bigint[], "
            "%s::bigint[]) AS w(level, lo, hi) ON n.level = w.level AND n.idx BETWEEN w.lo AND w.hi",
            (levels, lo, hi),
        )
        check_nodes(rep, created, stored)
        rep.leaves_checked += len(hashes)
        pos += len(hashes)
        if len(hashes) < len(rows):
            break
    rep.root = b64(rfc6962.fold([x for _, x in front]))
    if not rep.problems and n:
        with catalog.tx() as conn:
            stored_root = tree.root_at(conn, n)
        if b64(stored_root) != rep.root:
            rep.problems.append(f"root from stored subtrees {b64(stored_root)} != recomputed {rep.root}")
    rep.problems += missing_catalog_rows(catalog)
    return rep


def _check_state(catalog: Catalog, rep: AuditReport) -> int:
    """Leaf count vs ``log_state`` and gapless indices; sets ``size`` and ``pending``; returns the size."""
    state = catalog.one("SELECT size FROM log_state")
    stored_size = int(state["size"]) if state else 0
    counts = catalog.one(
        "SELECT count(*) FILTER (WHERE idx IS NULL) AS pending, count(idx) AS n, max(idx) AS mx FROM log_events"
    )
    assert counts is not None
    inbox = catalog.one("SELECT count(*) AS n FROM log_inbox")  # append_many's not-yet-sequenced events
    rep.pending, n = int(counts["pending"]) + (int(inbox["n"]) if inbox else 0), int(counts["n"])
    rep.size = n
    if n != stored_size:
        rep.problems.append(f"tree size: log_state says {stored_size}, log_events holds {n} leaves")
    if n and int(counts["mx"]) != n - 1:
        rep.problems.append(f"leaf indices are not gapless: {n} leaves but the highest index is {counts['mx']}")
    return n


def check_checkpoints(
    rep: AuditReport, cps: list[checkpoint.Checkpoint], n: int
) -> dict[int, list[checkpoint.Checkpoint]]:
    """Signatures, note vs row, sizes never shrinking nor beyond the log; returns checkpoints by size."""
    by_size: dict[int, list[checkpoint.Checkpoint]] = {}
    prev_size = -1
    for cp in cps:
        rep.checkpoints_checked += 1
        try:
            body = checkpoint.verify_note(cp.note, rep.trusted_keys)
            if (body.origin, body.size, body.root) != (cp.origin, cp.size, cp.root):
                rep.problems.append(
                    f"checkpoint {cp.id}: note says size {body.size} root {b64(body.root)}, "
                    f"row says size {cp.size} root {cp.root_b64}"
                )
        except (VerificationError, MalformedKey) as exc:
            rep.problems.append(f"checkpoint {cp.id} (size {cp.size}): {exc}")
        if cp.size < prev_size:
            rep.problems.append(
                f"checkpoint {cp.id}: size {cp.size} is smaller than an earlier checkpoint's {prev_size}"
            )
        prev_size = max(prev_size, cp.size)
        if cp.size > n:
            rep.problems.append(
                f"checkpoint {cp.id}: size {cp.size} is beyond the log's {n} leaves (leaves were removed)"
            )
        by_size.setdefault(cp.size, []).append(cp)
    return by_size


def check_roots_at(rep: AuditReport, by_size: dict[int, list[checkpoint.Checkpoint]], size: int, root: bytes) -> None:
    for cp in by_size.get(size, []):
        if cp.root != root:
            rep.problems.append(
                f"checkpoint {cp.id} (size {size}): root expected {cp.root_b64}, recomputed from leaves {b64(root)}"
            )


def check_leaves(rep: AuditReport, rows: list[dict[str, Any]], pos: int) -> list[bytes]:
    """Recompute the leaf hashes of one chunk starting at ``pos`` (stops at an index gap)."""
    hashes: list[bytes] = []
    for r in rows:
        i, computed, stored = int(r["idx"]), rfc6962.leaf_hash(bytes(r["body"])), bytes(r["leaf_hash"])
        if i != pos + len(hashes):
            rep.problems.append(f"leaf index gap before {i}")
            break
        if computed != stored:
            rep.problems.append(f"leaf {i}: body hashes to {b64(computed)}, stored leaf hash {b64(stored)}")
        _check_columns(rep, i, r)
        hashes.append(computed)
    return hashes


def _extend(
    rep: AuditReport,
    by_size: dict[int, list[checkpoint.Checkpoint]],
    front: list[tuple[rfc6962.Node, bytes]],
    pos: int,
    hashes: list[bytes],
) -> tuple[list[tuple[rfc6962.Node, bytes]], dict[rfc6962.Node, bytes]]:
    """Fold a chunk into the frontier, checking roots at checkpoint sizes; returns the inner nodes made."""
    created: dict[rfc6962.Node, bytes] = {}
    for k, h in enumerate(hashes):
        front, made = rfc6962.extend(front, pos + k, [h])
        created.update(made)
        check_roots_at(rep, by_size, pos + k + 1, rfc6962.fold([x for _, x in front]))
    return front, created


def check_nodes(rep: AuditReport, created: dict[rfc6962.Node, bytes], stored: list[dict[str, Any]]) -> None:
    """Stored subtree hashes must equal the recomputed ones, and none may be missing."""
    seen = set()
    for s in stored:
        key = (int(s["level"]), int(s["idx"]))
        seen.add(key)
        rep.nodes_checked += 1
        if created.get(key) != bytes(s["hash"]):
            rep.problems.append(
                f"stored subtree {key}: {b64(bytes(s['hash']))}, recomputed {b64(created.get(key, b''))}"
            )
    for key in created:
        if key[0] > 0 and key not in seen:
            rep.problems.append(f"stored subtree {key} is missing")


_MISSING_FILES = """
SELECT e.idx, e.subject_sha256 FROM log_events e
 WHERE e.type = 'ingestion' AND e.idx IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = e.subject_sha256)
 ORDER BY e.idx LIMIT %s
"""


def missing_catalog_rows(catalog: Catalog, limit: int = 100) -> list[str]:
    """Every ingestion in the log must have its ``files`` row: one problem per leaf whose row is gone.

    (The subject column is checked against the leaf body by ``_check_columns``.) Disposal keeps the
    row (status 'disposed'), so a missing row is always a deletion from the catalog.
    """
    rows = catalog.all(_MISSING_FILES, (limit,))
    return [
        f"leaf {r['idx']}: ingestion of {r['subject_sha256']} has no catalog files row (deleted from the catalog)"
        for r in rows
    ]
