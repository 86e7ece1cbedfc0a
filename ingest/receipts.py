"""Offload receipts: per recorder session, every file with its digests, storage location and log index.

A file is ``verified`` only when, at the time the receipt is made, (I2) the store's ``head()`` reports
the same SHA-256 and size with retention at least what the catalog recorded, the ``files`` row exists,
and its ingestion event has a log index. These are re-checked, never remembered from the copy. The
recorder is SAFE TO WIPE only when every entry is verified (I3); otherwise ``reasons`` names each
file that is not, and why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from liuhen.core.timefmt import as_utc, utcnow
from liuhen.integrity.events import Event
from liuhen.integrity.log import await_sequenced, record, sequencing_tx
from liuhen.runtime import Runtime
from liuhen.storage.base import ObjectInfo
from liuhen.storage.errors import ObjectNotFound, StorageError

VERIFIED = "verified"
STORED = "stored"  # stored and catalogued, but not (yet) verified
FAILED = "failed"  # could not be stored this pass; retried on the next
REJECTED = "rejected"  # not ingested on purpose (e.g. a symlink leading outside the recorder)
SKIPPED = "skipped"  # a link to a file inside the recorder, which is ingested itself


@dataclass
class FileReceipt:
    path: str  # printable path relative to the recorder (control bytes escaped as \\xNN)
    size: int | None = None
    mtime: str | None = None
    raw_path_hex: str | None = None  # the exact name bytes when ``path`` could not render them
    sha256: str | None = None
    sm3: str | None = None
    storage_key: str | None = None
    storage_version: str | None = None
    retain_until: str | None = None
    file_id: int | None = None
    event_id: int | None = None
    log_index: int | None = None
    recorded_at: str | None = None
    media_kind: str = "unknown"
    flags: list[str] = field(default_factory=list)
    status: str = FAILED
    error: str | None = None  # "<code>: <message>"
    resumed: bool = False  # already stored by an earlier pass; not copied again
    notes: list[str] = field(default_factory=list)


@dataclass
class Receipt:
    session_id: int | None
    dock: str
    port: str
    recorder_key: str
    device: dict[str, Any] | None
    started_at: str
    finished_at: str | None = None
    status: str = "running"
    safe_to_wipe: bool = False
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    files: list[FileReceipt] = field(default_factory=list)
    digests: list[str] = field(default_factory=lambda: ["sha256"])
    store: str = ""
    actor: str = ""
    error: str | None = None
    receipt_event_id: int | None = None
    receipt_log_index: int | None = None

    # --- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Receipt:
        d = dict(d)
        files = [FileReceipt(**f) for f in d.pop("files", [])]
        known = set(cls.__dataclass_fields__)
        return cls(files=files, **{k: v for k, v in d.items() if k in known})

    def body_sha256(self) -> str:
        """Digest of the receipt as logged (without its own log position, which comes after)."""
        d = self.to_dict()
        d.pop("receipt_event_id", None)
        d.pop("receipt_log_index", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    # --- summaries -------------------------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    @property
    def bytes_total(self) -> int:
        return sum(f.size or 0 for f in self.files)


def _iso(t: datetime | None) -> str | None:
    return as_utc(t).isoformat() if t else None


Head = ObjectInfo | str  # what the store reports for a key, or why it could not say


def catalog_rows(conn: Any, receipt: Receipt) -> dict[int, dict[str, Any]]:
    """The ``files`` rows of the receipt's entries, by id."""
    ids = [f.file_id for f in receipt.files if f.file_id is not None]
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT id, sha256, size, storage_key, storage_version, retention_until FROM files WHERE id = ANY(%s)",
        (ids,),
    ).fetchall()
    return {int(r["id"]): r for r in rows}


def log_indices(conn: Any, receipt: Receipt) -> dict[int, int | None]:
    """The log index (None while pending) of each entry's ingestion event, by event id."""
    ev = [f.event_id for f in receipt.files if f.event_id is not None]
    if not ev:
        return {}
    rows = conn.execute("SELECT id, idx FROM log_events WHERE id = ANY(%s)", (ev,)).fetchall()
    return {int(r["id"]): None if r["idx"] is None else int(r["idx"]) for r in rows}


def store_heads(runtime: Runtime, keys: Iterable[str]) -> dict[str, Head]:
    """Ask the store about each object now (never remembered from the copy)."""
    out: dict[str, Head] = {}
    for key in keys:
        if key in out:
            continue
        try:
            out[key] = runtime.store.head(key)
        except ObjectNotFound:
            out[key] = f"not_in_store: {key} is missing"
        except (StorageError, OSError) as exc:
            out[key] = f"store_unavailable: head() failed: {exc}"
    return out


def add_missing_heads(runtime: Runtime, heads: dict[str, Head], rows: dict[int, dict[str, Any]]) -> None:
    """Ask the store (``store_heads``) for the objects of ``rows`` that ``heads`` does not hold yet."""
    heads |= store_heads(runtime, {r["storage_key"] for r in rows.values()} - heads.keys())


def check_entries(
    receipt: Receipt, rows: dict[int, dict[str, Any]], heads: dict[str, Head], idx: dict[int, int | None]
) -> None:
    """Set each stored entry's status from what the catalog, the store and the log hold (I2; pure)."""
    for f in receipt.files:
        if f.status not in (STORED, VERIFIED):
            continue
        f.status = STORED
        f.log_index = idx.get(f.event_id) if f.event_id is not None else None
        row = rows.get(f.file_id) if f.file_id is not None else None
        problem = _check_one(f, row, heads.get(row["storage_key"]) if row else None)
        if problem is None:
            f.status = VERIFIED
        else:
            f.error = problem


def verify_entries(runtime: Runtime, receipt: Receipt, heads: dict[str, Head] | None = None) -> None:
    """Re-check every stored entry against the store, the catalog and the log (I2); set statuses.

    ``heads``: what the store reported moments ago for some keys (the caller's, in this same receipt's
    making); only the keys not in it are asked."""
    rows: dict[int, dict[str, Any]] = {}
    idx: dict[int, int | None] = {}
    if any(f.file_id is not None or f.event_id is not None for f in receipt.files):
        with runtime.catalog.tx() as conn:
            rows = catalog_rows(conn, receipt)
            idx = log_indices(conn, receipt)
    heads = dict(heads or {})
    add_missing_heads(runtime, heads, rows)
    check_entries(receipt, rows, heads, idx)


def _check_one(f: FileReceipt, row: dict[str, Any] | None, head: Head | None) -> str | None:
    if row is None:
        return "not_catalogued: no files row"
    if row["sha256"] != f.sha256:
        return f"catalog_mismatch: files row holds {row['sha256']}"
    if head is None:
        return "not_in_store: not asked"
    if isinstance(head, str):
        return head
    if head.sha256.lower() != row["sha256"] or head.size != row["size"]:
        return f"store_mismatch: store reports sha256 {head.sha256} size {head.size}"
    want = row["retention_until"]
    if head.retain_until is None:
        return "no_retention: the store holds no retention for the object"
    got = as_utc(head.retain_until)
    if want is not None and got < want - timedelta(seconds=1):
        return f"retention_short: store retains until {got.isoformat()}, catalog expects {want.isoformat()}"
    if head.retention_mode != "COMPLIANCE":
        return f"retention_mode: the store reports {head.retention_mode or 'no mode'}, COMPLIANCE required"
    f.retain_until = _iso(got)
    f.storage_version = head.version or f.storage_version
    if f.log_index is None:
        return "not_logged: its ingestion event has no log index yet"
    return None


def decide(receipt: Receipt) -> None:
    """SAFE TO WIPE only when every entry is verified or skipped (I3); the reasons otherwise (pure)."""
    reasons = []
    for f in receipt.files:
        if f.status == VERIFIED or f.status == SKIPPED:
            continue
        reasons.append(f"{f.path}: {f.status}: {f.error or 'not verified'}")
    if receipt.error:
        reasons.insert(0, receipt.error)
    receipt.reasons = reasons
    receipt.safe_to_wipe = not reasons
    receipt.status = "complete" if receipt.safe_to_wipe else "incomplete"
    receipt.finished_at = utcnow().isoformat()
    if receipt.session_id is None:
        receipt.status = "failed"


def record_receipt(conn: Any, receipt: Receipt) -> int:
    """Store the decided receipt on its session and record its ``receipt`` event (pending); the event id."""
    digest = receipt.body_sha256()
    counts = receipt.counts
    event_id = record(
        conn,
        Event(
            "receipt",
            receipt.actor or "ingest",
            subject={
                "ingest_session": receipt.session_id,
                "device_serial": (receipt.device or {}).get("device_serial"),
            },
            data={
                "receipt_sha256": digest,
                "safe_to_wipe": receipt.safe_to_wipe,
                "files": len(receipt.files),
                "verified": counts.get(VERIFIED, 0),
                "bytes": receipt.bytes_total,
                "dock": receipt.dock,
                "port": receipt.port,
            },
        ),
    )
    conn.execute(
        "UPDATE ingest_sessions SET status = %s, finished_at = now(), safe_to_wipe = %s, receipt = %s, "
        "receipt_event_id = %s, receipt_sha256 = %s, files_done = %s, error = %s WHERE id = %s",
        (
            receipt.status,
            receipt.safe_to_wipe,
            json.dumps(receipt.to_dict(), ensure_ascii=False),
            event_id,
            digest,
            counts.get(VERIFIED, 0),
            receipt.error,
            receipt.session_id,
        ),
    )
    return event_id


def finalize(runtime: Runtime, receipt: Receipt, heads: dict[str, Head] | None = None) -> Receipt:
    """Verify, decide SAFE TO WIPE, store the receipt in the catalog and log it as a ``receipt`` event
    (``heads`` as for ``verify_entries``).

    The receipt's event is sequenced in its own transaction when the sequencer is free; when another
    station holds it, the receipt commits pending and waits with every other waiting station for one
    sequencing run (``await_sequenced``) instead of queueing for the lock on its own."""
    verify_entries(runtime, receipt, heads)
    decide(receipt)
    if receipt.session_id is None:
        return receipt
    with sequencing_tx(runtime.catalog) as stx:
        event_id = record_receipt(stx.conn, receipt)
        stx.try_sequence()
    index = stx.assigned.get(event_id)
    if index is None:
        index = dict(await_sequenced(runtime.catalog, [event_id]))[event_id]
    receipt.receipt_event_id, receipt.receipt_log_index = event_id, index
    return receipt


def load_receipt(runtime: Runtime, session_id: int) -> Receipt | None:
    """The stored receipt of a session (with its log position), or None if it has none yet."""
    row = runtime.catalog.one(
        "SELECT s.receipt, s.receipt_event_id, e.idx FROM ingest_sessions s "
        "LEFT JOIN log_events e ON e.id = s.receipt_event_id WHERE s.id = %s",
        (session_id,),
    )
    if row is None or row["receipt"] is None:
        return None
    r = Receipt.from_dict(row["receipt"])
    r.receipt_event_id = row["receipt_event_id"]
    r.receipt_log_index = row["idx"]
    return r


def reverify(runtime: Runtime, session_id: int) -> Receipt | None:
    """The stored receipt with every entry re-checked now (does not store anything)."""
    r = load_receipt(runtime, session_id)
    if r is None:
        return None
    verify_entries(runtime, r)
    r.safe_to_wipe = all(f.status in (VERIFIED, SKIPPED) for f in r.files) and not r.error
    return r
