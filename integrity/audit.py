"""Full audit of the log: recompute everything from the leaf bodies, check every checkpoint.

``verify_log`` streams every leaf once (O(n) time, O(log n) memory), recomputing leaf hashes, every
stored subtree hash and the root at every checkpointed size, and checks every checkpoint's
signature. It reports every problem it finds (not just the first), each naming what differed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liuhen.catalog.db import Catalog
from liuhen.integrity import checkpoint, note, rfc6962, tree
from liuhen.integrity.errors import VerificationError

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
                "untrusted_keys": self.untrusted_keys, "problems": self.problems}


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def trusted_keys(catalog: Catalog, key_dir: Path | None = None, explicit: list[str] | None = None) -> list[str]:
    """Keys to check signatures with (``checkpoint.key_trust``): the keys on disk in ``key_dir``
    and ``explicit``, plus keys reached from those through verified ``key.rotate`` endorsements.
    Rows of ``log_keys`` are never trusted merely for being there."""
    return checkpoint.key_trust(catalog, key_dir, explicit or []).keys


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
    ``log_keys`` row outside that set is a problem (``checkpoint.key_trust``)."""
    rep = AuditReport()
    trust = checkpoint.key_trust(catalog, key_dir, vkeys or [])
    rep.trusted_keys, rep.untrusted_keys = trust.keys, trust.untrusted
    rep.problems += trust.problems
    if not trust.anchors:
        rep.problems.append("no trusted key: none on disk in the key directory and none given "
                            "(pass --trusted-key)")
    state = catalog.one("SELECT size FROM log_state")
    stored_size = int(state["size"]) if state else 0
    counts = catalog.one("SELECT count(*) FILTER (WHERE idx IS NULL) AS pending, count(idx) AS n, "
                         "max(idx) AS mx FROM log_events")
    assert counts is not None
    inbox = catalog.one("SELECT count(*) AS n FROM log_inbox")  # append_many's not-yet-sequenced events
    rep.pending, n = int(counts["pending"]) + (int(inbox["n"]) if inbox else 0), int(counts["n"])
    rep.size = n
    if n != stored_size:
        rep.problems.append(f"tree size: log_state says {stored_size}, log_events holds {n} leaves")
    if n and int(counts["mx"]) != n - 1:
        rep.problems.append(f"leaf indices are not gapless: {n} leaves but the highest index is {counts['mx']}")

    cps = checkpoint.all_checkpoints(catalog)
    by_size: dict[int, list[checkpoint.Checkpoint]] = {}
    prev_size = -1
    for cp in cps:
        rep.checkpoints_checked += 1
        try:
            body = checkpoint.verify_note(cp.note, rep.trusted_keys)
            if (body.origin, body.size, body.root) != (cp.origin, cp.size, cp.root):
                rep.problems.append(f"checkpoint {cp.id}: note says size {body.size} root {_b64(body.root)}, "
                                    f"row says size {cp.size} root {cp.root_b64}")
        except (VerificationError, note.MalformedKey) as exc:
            rep.problems.append(f"checkpoint {cp.id} (size {cp.size}): {exc}")
        if cp.size < prev_size:
            rep.problems.append(f"checkpoint {cp.id}: size {cp.size} is smaller than an earlier checkpoint's "
                                f"{prev_size}")
        prev_size = max(prev_size, cp.size)
        if cp.size > n:
            rep.problems.append(f"checkpoint {cp.id}: size {cp.size} is beyond the log's {n} leaves "
                                "(leaves were removed)")
        by_size.setdefault(cp.size, []).append(cp)

    def check_roots_at(size: int, root: bytes) -> None:
        for cp in by_size.get(size, []):
            if cp.root != root:
                rep.problems.append(f"checkpoint {cp.id} (size {size}): root expected {cp.root_b64}, "
                                    f"recomputed from leaves {_b64(root)}")

    check_roots_at(0, rfc6962.EMPTY_ROOT)
    front: list[tuple[rfc6962.Node, bytes]] = []
    pos = 0
    while pos < n:
        rows = catalog.all("SELECT idx, body, leaf_hash, type, actor, subject_sha256, case_no FROM log_events "
                           "WHERE idx >= %s AND idx < %s ORDER BY idx", (pos, min(n, pos + CHUNK)))
        if not rows:
            break
        hashes: list[bytes] = []
        for r in rows:
            i, computed, stored = int(r["idx"]), rfc6962.leaf_hash(bytes(r["body"])), bytes(r["leaf_hash"])
            if i != pos + len(hashes):
                rep.problems.append(f"leaf index gap before {i}")
                break
            if computed != stored:
                rep.problems.append(f"leaf {i}: body hashes to {_b64(computed)}, stored leaf hash {_b64(stored)}")
            _check_columns(rep, i, r)
            hashes.append(computed)
        # roots at checkpoint sizes inside this chunk, and the stored inner nodes completed here
        created: dict[rfc6962.Node, bytes] = {}
        for k, h in enumerate(hashes):
            front, made = rfc6962.extend(front, pos + k, [h])
            created.update(made)
            check_roots_at(pos + k + 1, rfc6962.fold([x for _, x in front]))
        levels, lo, hi = _inner_nodes_ending_in(pos, pos + len(hashes))
        stored_nodes = catalog.all(
            "SELECT n.level, n.idx, n.hash FROM log_nodes n JOIN unnest(%s::smallint[], %s::bigint[], "
            "%s::bigint[]) AS w(level, lo, hi) ON n.level = w.level AND n.idx BETWEEN w.lo AND w.hi",
            (levels, lo, hi),
        )
        seen = set()
        for s in stored_nodes:
            key = (int(s["level"]), int(s["idx"]))
            seen.add(key)
            rep.nodes_checked += 1
            if created.get(key) != bytes(s["hash"]):
                rep.problems.append(f"stored subtree {key}: {_b64(bytes(s['hash']))}, recomputed "
                                    f"{_b64(created.get(key, b''))}")
        for key in created:
            if key[0] > 0 and key not in seen:
                rep.problems.append(f"stored subtree {key} is missing")
        rep.leaves_checked += len(hashes)
        pos += len(hashes)
        if len(hashes) < len(rows):
            break
    rep.root = _b64(rfc6962.fold([x for _, x in front]))
    if not rep.problems and n:
        with catalog.tx() as conn:
            stored_root = tree.root_at(conn, n)
        if _b64(stored_root) != rep.root:
            rep.problems.append(f"root from stored subtrees {_b64(stored_root)} != recomputed {rep.root}")
    return rep
