"""Fixity audits: re-hash stored originals and compare store, catalog and log.

For each original checked (all of them in ``full`` mode, a random sample in ``sample`` mode):

1. **store vs catalog** — stream the object through ``store.get()`` and hash it (SHA-256, plus SM3
   when the catalog row has one); it must equal ``files.sha256`` / ``files.sm3``, and its size
   ``files.size``; the storage key must be the content address of the catalog digest.
2. **catalog vs log** — the file's ingestion event (``files.ingest_event_id``, else the sequenced
   ``ingestion`` event naming the digest) must be in the log, its leaf body must still hash to its
   leaf hash, and the digests it recorded must equal the catalog's. A digest edited in SQL behind
   Liuhen's back shows up here (and in step 1, since the store still holds the original bytes).

Every file checked gets one ``fixity.check`` event (PREMIS: outcome ``pass``/``fail`` with details);
all of a run's events are committed in one batch.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.db import Catalog
from integrity import hashing, log, rfc6962
from integrity.events import Event

if TYPE_CHECKING:
    from storage.base import ObjectStore


@dataclass
class FileResult:
    file_id: int
    sha256: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    computed: dict[str, str] = field(default_factory=dict)
    event_idx: int | None = None


@dataclass
class FixityReport:
    mode: str
    checked: int = 0
    failed: int = 0
    bytes_hashed: int = 0
    results: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "mode": self.mode, "checked": self.checked, "failed": self.failed,
            "bytes_hashed": self.bytes_hashed,
            "failures": [{"file_id": r.file_id, "sha256": r.sha256, "problems": r.problems,
                          "computed": r.computed} for r in self.results if not r.ok],
        }


def _ingestion_leaf(catalog: Catalog, row: dict[str, Any]) -> log.Leaf | None:
    if row.get("ingest_event_id"):
        lf = log.leaf_for_event(catalog, int(row["ingest_event_id"]))
        if lf is not None:
            return lf
    r = catalog.one(
        "SELECT id FROM log_events WHERE subject_sha256 = %s AND type = 'ingestion' AND idx IS NOT NULL "
        "ORDER BY idx LIMIT 1",
        (row["sha256"],),
    )
    return None if r is None else log.leaf_for_event(catalog, int(r["id"]))


def _recorded_digests(leaf: log.Leaf) -> dict[str, Any]:
    ev = leaf.event
    out: dict[str, Any] = {}
    for src in (ev.data, ev.subject):
        for k in ("sha256", "sm3", "size"):
            if isinstance(src, dict) and k in src and k not in out:
                out[k] = src[k]
    return out


def check_file(catalog: Catalog, store: ObjectStore, row: dict[str, Any]) -> tuple[FileResult, int]:
    """Check one catalog row; returns the result and the number of bytes hashed."""
    from storage.base import key_for

    sha = row["sha256"]
    res = FileResult(int(row["id"]), sha, ok=True)
    algos = ["sha256"] + (["sm3"] if row.get("sm3") else [])
    nbytes = 0
    try:
        hs = {a: hashing.new(a) for a in algos}
        for chunk in store.get(row["storage_key"]):
            nbytes += len(chunk)
            for h in hs.values():
                h.update(chunk)
        res.computed = {a: h.hexdigest() for a, h in hs.items()}
        if res.computed["sha256"] != sha:
            res.problems.append(f"store vs catalog: object {row['storage_key']} hashes to sha256 "
                                f"{res.computed['sha256']}, catalog says {sha}")
        if "sm3" in res.computed and res.computed["sm3"] != row["sm3"]:
            res.problems.append(f"store vs catalog: sm3 {res.computed['sm3']}, catalog says {row['sm3']}")
        if nbytes != int(row["size"]):
            res.problems.append(f"store vs catalog: {nbytes} bytes, catalog says {row['size']}")
    except Exception as exc:  # missing object, store down, SM3 unavailable: all are failures to report
        res.problems.append(f"store: cannot read {row['storage_key']}: {type(exc).__name__}: {exc}")
    try:
        if row["storage_key"] != key_for(sha):
            res.problems.append(f"catalog: storage key {row['storage_key']} is not the address of {sha}")
    except ValueError as exc:
        res.problems.append(f"catalog: {exc}")
    leaf = _ingestion_leaf(catalog, row)
    if leaf is None:
        res.problems.append(f"catalog vs log: no sequenced ingestion event records sha256 {sha}")
    else:
        if rfc6962.leaf_hash(leaf.body) != leaf.leaf_hash:
            res.problems.append(f"log: leaf {leaf.idx} body does not hash to its leaf hash")
        rec = _recorded_digests(leaf)
        if rec.get("sha256") != sha:
            res.problems.append(f"catalog vs log: leaf {leaf.idx} recorded sha256 {rec.get('sha256')}, "
                                f"catalog says {sha}")
        if row.get("sm3") and rec.get("sm3") and rec["sm3"] != row["sm3"]:
            res.problems.append(f"catalog vs log: leaf {leaf.idx} recorded sm3 {rec['sm3']}, catalog {row['sm3']}")
        if "size" in rec and int(rec["size"]) != int(row["size"]):
            res.problems.append(f"catalog vs log: leaf {leaf.idx} recorded size {rec['size']}, "
                                f"catalog says {row['size']}")
    res.ok = not res.problems
    return res, nbytes


def run(
    catalog: Catalog,
    store: ObjectStore,
    actor: str,
    *,
    mode: str = "full",
    sample: int = 100,
    seed: int | None = None,
) -> FixityReport:
    """Run a fixity audit (``full``: every stored original; ``sample``: ``sample`` random ones)."""
    if mode not in ("full", "sample"):
        raise ValueError(f"fixity mode must be 'full' or 'sample', not {mode!r}")
    cols = "id, sha256, sm3, size, storage_key, ingest_event_id"
    if mode == "full":
        rows = catalog.all(f"SELECT {cols} FROM files WHERE status = 'stored' ORDER BY id")
    else:
        ids = [r["id"] for r in catalog.all("SELECT id FROM files WHERE status = 'stored'")]
        pick = random.Random(seed).sample(ids, min(sample, len(ids)))  # noqa: S311 (sampling, not crypto)
        rows = catalog.all(f"SELECT {cols} FROM files WHERE id = ANY(%s) ORDER BY id", (pick,))
    rep = FixityReport(mode)
    events = []
    for row in rows:
        res, n = check_file(catalog, store, row)
        rep.results.append(res)
        rep.checked += 1
        rep.bytes_hashed += n
        rep.failed += 0 if res.ok else 1
        events.append(Event(
            "fixity.check", actor, subject={"sha256": res.sha256},
            data={"outcome": "pass" if res.ok else "fail", "mode": mode, "file_id": res.file_id,
                  "computed": res.computed, "problems": res.problems},
        ))
    for res, (_, idx) in zip(rep.results, log.append_many(catalog, events), strict=True):
        res.event_idx = idx
    return rep


def run_scheduler(catalog: Catalog, store: ObjectStore, stop: threading.Event, *, interval_s: float = 86400.0,
                  sample: int = 100, actor: str = "system:fixity") -> None:
    """Scheduled audits: a sampled run every ``interval_s`` until ``stop`` is set."""
    while not stop.wait(interval_s):
        try:
            run(catalog, store, actor, mode="sample", sample=sample)
        except Exception:  # keep the schedule alive; the failure is retried next interval
            import logging

            logging.getLogger(__name__).exception("scheduled fixity audit failed")
