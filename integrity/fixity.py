"""Fixity audits: re-hash stored originals and compare store, catalog and log.

For each original checked (all of them in ``full`` mode, a random sample in ``sample`` mode):

1. **store vs catalog** — stream the object through ``store.get()`` and hash it (SHA-256, plus SM3
   when the catalog row has one); it must equal ``files.sha256`` / ``files.sm3``, and its size
   ``files.size``; the storage key must be the content address of the catalog digest.
2. **catalog vs log** — the file's ingestion event (``files.ingest_event_id``, which must be the first
   sequenced ``ingestion`` event naming the digest; else that first event) must be in the log, its
   leaf body must still hash to its leaf hash, and every fact it recorded must equal the catalog's:
   ``FACT_FIELDS`` (sha256, sm3, size, storage_key, storage_version, device_serial, officer_no,
   unit_code, recorded_at) and ``original_name`` (the basename of the recorded ``source_path``).
   Each mismatch names the field, the value in the log (expected) and in the catalog (found). A
   digest, officer number or recording time edited in SQL behind Liuhen's back shows up here.

``ingestion_facts(catalog, sha256)`` gives the metadata as the log recorded it, for documents (the
export statement) that must not trust ``files`` columns.

Every file checked gets one ``fixity.check`` event (PREMIS: outcome ``pass``/``fail`` with details);
all of a run's events are committed in one batch.
"""

from __future__ import annotations

import logging
import posixpath
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from liuhen.catalog.db import Catalog
from liuhen.integrity import hashing, log, rfc6962
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.events import Event
from liuhen.storage.base import ObjectStore, key_for


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


# Catalog columns checked against what the file's ingestion event recorded (the event's ``data``,
# and ``subject`` for the digest). A column the event did not record at all is not compared; a
# column it recorded as null must be null in the catalog too.
FACT_FIELDS = ("sha256", "sm3", "size", "storage_key", "storage_version", "device_serial", "officer_no",
               "unit_code", "recorded_at")


def _is_ingestion_of(leaf: log.Leaf, sha256: str | None) -> bool:
    try:
        ev = leaf.event
    except (ValueError, KeyError, TypeError):
        return False
    subj = ev.subject if isinstance(ev.subject, dict) else {}
    return ev.type == "ingestion" and (sha256 is None or subj.get("sha256") == sha256)


def ingestion_leaf(catalog: Catalog, sha256: str) -> log.Leaf | None:
    """The first sequenced ``ingestion`` leaf for ``sha256`` (the event that created the file row).

    Looked up by the log only — never through ``files`` columns, which are what is being checked.
    """
    rows = catalog.all(
        "SELECT id FROM log_events WHERE subject_sha256 = %s AND type = 'ingestion' AND idx IS NOT NULL "
        "ORDER BY idx",
        (sha256,),
    )
    for r in rows:
        lf = log.leaf_for_event(catalog, int(r["id"]))
        if lf is not None and _is_ingestion_of(lf, sha256):
            return lf
    return None


def _facts(leaf: log.Leaf) -> dict[str, Any]:
    ev = leaf.event
    subj = ev.subject if isinstance(ev.subject, dict) else {}
    data = ev.data if isinstance(ev.data, dict) else {}
    out: dict[str, Any] = dict(data)
    if "sha256" in subj:
        out["sha256"] = subj["sha256"]
    out.update(log_index=leaf.idx, event_id=leaf.event_id, ingested_at=ev.time, actor=ev.actor)
    return out


def ingestion_facts(catalog: Catalog, sha256: str) -> dict[str, Any]:
    """The file's metadata *as recorded in the log* by its first ``ingestion`` event.

    Keys: whatever the event recorded (ingest records ``sha256``, ``sm3``, ``size``, ``storage_key``,
    ``storage_version``, ``device_serial``, ``officer_no``, ``unit_code``, ``recorded_at`` (ISO 8601),
    ``source_path``, ``recorder_key``, ``ingest_session``, ``dock``, ``port``, ``flags``, …) plus
    ``log_index``, ``event_id``, ``ingested_at`` (the event's time) and ``actor``. Build statements
    from this rather than from the ``files`` row, which SQL can edit without touching the log.
    ``{}`` if no sequenced ingestion event names the digest. Raises ``VerificationError`` if the
    leaf body no longer hashes to its stored leaf hash.
    """
    leaf = ingestion_leaf(catalog, sha256)
    if leaf is None:
        return {}
    computed = rfc6962.leaf_hash(leaf.body)
    if computed != leaf.leaf_hash:
        raise VerificationError(f"ingestion leaf {leaf.idx} of {sha256}", leaf.leaf_hash.hex(), computed.hex())
    return _facts(leaf)


def _norm(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "size":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if name == "recorded_at":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value
    return value


def _show(value: Any) -> str:
    return "null" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)


def compare_with_log(leaf: log.Leaf, row: dict[str, Any]) -> list[str]:
    """Problems where the catalog row differs from its ingestion leaf, one per field.

    Each names the field, the value the log recorded (expected) and the catalog's (found).
    """
    problems: list[str] = []
    facts = _facts(leaf)
    for name in FACT_FIELDS:
        if name not in facts or name not in row:
            continue
        rec, cat = facts[name], row[name]
        if name == "sm3" and rec is None:
            continue  # a later ingest may add the SM3 the first one lacked; the re-hash checks it
        a, b = _norm(name, rec), _norm(name, cat)
        try:
            same = a == b
        except TypeError:  # naive vs aware datetime
            same = False
        if not same:
            problems.append(f"catalog vs log: {name} differs from ingestion leaf {leaf.idx}: "
                            f"expected {_show(rec)} (log), found {_show(cat)} (catalog)")
    src = facts.get("source_path")
    if isinstance(src, str) and row.get("original_name") is not None:
        base = posixpath.basename(src.replace("\\", "/"))
        if base != row["original_name"]:
            problems.append(f"catalog vs log: original_name differs from ingestion leaf {leaf.idx}: "
                            f"expected {base} (log, from source_path {src}), found {row['original_name']} (catalog)")
    return problems


def _leaf_for_row(catalog: Catalog, row: dict[str, Any], res: FileResult) -> log.Leaf | None:
    sha = row["sha256"]
    first = ingestion_leaf(catalog, sha)
    eid = row.get("ingest_event_id")
    if not eid:
        return first
    lf = log.leaf_for_event(catalog, int(eid))
    if lf is None or not _is_ingestion_of(lf, None):
        res.problems.append(f"catalog vs log: files.ingest_event_id {eid} is not a sequenced ingestion event")
        return first
    if first is not None and first.event_id != lf.event_id and _is_ingestion_of(lf, sha):
        res.problems.append(f"catalog vs log: files.ingest_event_id {eid} (leaf {lf.idx}) is not the file's "
                            f"first ingestion event (event {first.event_id}, leaf {first.idx})")
        return first
    return lf


def check_file(catalog: Catalog, store: ObjectStore, row: dict[str, Any]) -> tuple[FileResult, int]:
    """Check one catalog row; returns the result and the number of bytes hashed."""

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
    leaf = _leaf_for_row(catalog, row, res)
    if leaf is None:
        res.problems.append(f"catalog vs log: no sequenced ingestion event records sha256 {sha}")
    else:
        if rfc6962.leaf_hash(leaf.body) != leaf.leaf_hash:
            res.problems.append(f"log: leaf {leaf.idx} body does not hash to its leaf hash")
        res.problems += compare_with_log(leaf, row)
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
    cols = ("id, sha256, sm3, size, storage_key, storage_version, device_serial, officer_no, unit_code, "
            "recorded_at, original_name, ingest_event_id")
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
            logging.getLogger(__name__).exception("scheduled fixity audit failed")
