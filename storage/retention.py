"""Retention policy for originals (公安机关现场执法视音频记录工作规定 Art. 13: ≥ 6 months; permanently
when the footage is evidence).

- **At ingest** every original gets COMPLIANCE retention until ``now + Settings.retention_days``
  (≥ 180): ``ingest_retain_until`` / ``apply_ingest_retention``.
- **On link** to a case the original is put under legal hold — kept while any link is active,
  i.e. permanently by default: ``hold_for_link``. When the last active link is removed the hold is
  released (retention still applies): ``release_hold_if_unlinked``.
- **Derivatives** (proxies, thumbnails) are not locked; they are reproducible from originals (I7).
- **Disposal** (``dispose_expired``) is the one path that removes an original (I4): only files whose
  retention has expired — per the catalog *and* per the store — that have no legal hold and no active
  row in ``links`` (``unlinked_at IS NULL``). Each removal commits with a ``disposal`` audit event
  and ``files.status = 'disposed'``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from integrity.events import Event
from integrity.log import record
from storage._util import as_utc, utcnow
from storage.base import ObjectInfo, ObjectStore
from storage.errors import ObjectNotFound, StorageError

if TYPE_CHECKING:
    import psycopg

    from catalog.db import Catalog
    from liuhen.config import Settings

log = logging.getLogger("liuhen.storage.retention")

_ACTIVE_LINKS = "SELECT count(*) AS n FROM links WHERE file_id = %s AND unlinked_at IS NULL"


def ingest_retain_until(settings: Settings, now: datetime | None = None) -> datetime:
    """The retain-until date an original gets at ingest."""
    return as_utc(now or utcnow()) + timedelta(days=settings.retention_days)


def apply_ingest_retention(store: ObjectStore, key: str, settings: Settings) -> ObjectInfo:
    """Make sure ``key`` is retained at least ``retention_days`` from now (extends, never shortens)."""
    info = store.head(key)
    until = ingest_retain_until(settings)
    if info.retain_until is None or info.retain_until < until:
        info = store.extend_retention(key, until)
    return info


def hold_for_link(
    conn: psycopg.Connection[Any], store: ObjectStore, *, sha256: str, actor: str, case_no: str | None = None
) -> bool:
    """Put the original under legal hold because it is linked to a case (call in the link's tx).

    The store's hold is set first (idempotent and only ever protective), then ``files.legal_hold``
    and a ``hold.set`` event. Returns True when the hold was newly set.
    """
    row = conn.execute(
        "SELECT id, storage_key, legal_hold FROM files WHERE sha256 = %s FOR UPDATE", (sha256,)
    ).fetchone()
    if row is None:
        raise ObjectNotFound(f"no catalogued original with sha256 {sha256}")
    info = store.set_legal_hold(row["storage_key"], True)
    if row["legal_hold"]:
        return False
    conn.execute("UPDATE files SET legal_hold = true WHERE id = %s", (row["id"],))
    subject: dict[str, Any] = {"sha256": sha256}
    if case_no:
        subject["case"] = case_no
    record(conn, Event("hold.set", actor, subject=subject, data={"key": info.key, "reason": "linked to case"}))
    return True


def release_hold_if_unlinked(catalog: Catalog, store: ObjectStore, *, sha256: str, actor: str) -> bool:
    """Release the legal hold when no active link remains (call after the unlink committed)."""
    with catalog.tx() as conn:
        row = conn.execute(
            "SELECT id, storage_key, legal_hold FROM files WHERE sha256 = %s FOR UPDATE", (sha256,)
        ).fetchone()
        if row is None:
            raise ObjectNotFound(f"no catalogued original with sha256 {sha256}")
        active = conn.execute(_ACTIVE_LINKS, (row["id"],)).fetchone()
        if active and active["n"]:
            return False
        store.set_legal_hold(row["storage_key"], False)
        if not row["legal_hold"]:
            return False
        conn.execute("UPDATE files SET legal_hold = false WHERE id = %s", (row["id"],))
        record(
            conn,
            Event(
                "hold.release",
                actor,
                subject={"sha256": sha256},
                data={"key": row["storage_key"], "reason": "no active case links"},
            ),
        )
    return True


@dataclass
class DisposalReport:
    disposed: list[str] = field(default_factory=list)  # sha256 of originals removed
    skipped: dict[str, str] = field(default_factory=dict)  # sha256 -> why not
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"disposed": self.disposed, "skipped": self.skipped, "dry_run": self.dry_run}


_CANDIDATES = """
SELECT f.id, f.sha256, f.size, f.storage_key, f.retention_until
  FROM files f
 WHERE f.status = 'stored' AND NOT f.legal_hold
   AND f.retention_until IS NOT NULL AND f.retention_until <= %s
   AND NOT EXISTS (SELECT 1 FROM links l WHERE l.file_id = f.id AND l.unlinked_at IS NULL)
 ORDER BY f.retention_until, f.id
 LIMIT %s
"""


def dispose_expired(
    catalog: Catalog, store: ObjectStore, actor: str, *, dry_run: bool = False, limit: int = 10_000
) -> DisposalReport:
    """Remove expired, unlinked, unheld originals; one ``disposal`` event per object.

    Per object, in one transaction: lock the ``files`` row (a concurrent link insert waits on it),
    re-check links and hold, ``store.dispose`` (which itself refuses anything retained or held),
    mark the row disposed and record the event. If the store refuses, the transaction rolls back and
    nothing is recorded. An object already absent from the store is recorded with
    ``already_absent: true`` so an auditor can tell it from a normal disposal.
    """
    now = utcnow()
    report = DisposalReport(dry_run=dry_run)
    for c in catalog.all(_CANDIDATES, (now, limit)):
        sha, key = c["sha256"], c["storage_key"]
        try:
            info: ObjectInfo | None = store.head(key)
        except ObjectNotFound:
            info = None
        if info is not None and info.legal_hold:
            report.skipped[sha] = "legal hold set in the store"
            continue
        if info is not None and (info.retain_until is None or info.retain_until > now):
            report.skipped[sha] = f"store retains it until {info.retain_until}"
            continue
        if dry_run:
            report.disposed.append(sha)
            continue
        try:
            with catalog.tx() as conn:
                row = conn.execute(
                    "SELECT legal_hold, status FROM files WHERE id = %s FOR UPDATE", (c["id"],)
                ).fetchone()
                active = conn.execute(_ACTIVE_LINKS, (c["id"],)).fetchone()
                if row is None or row["status"] != "stored" or row["legal_hold"] or (active and active["n"]):
                    report.skipped[sha] = "linked, held or already disposed meanwhile"
                    continue
                if info is not None:
                    store.dispose(key)
                else:
                    log.warning("disposal: %s was already absent from the store", key)
                conn.execute("UPDATE files SET status = 'disposed' WHERE id = %s", (c["id"],))
                record(
                    conn,
                    Event(
                        "disposal",
                        actor,
                        subject={"sha256": sha},
                        data={
                            "key": key,
                            "size": c["size"],
                            "store": store.name,
                            "version": info.version if info else None,
                            "retention_until": as_utc(c["retention_until"]).isoformat(),
                            "already_absent": info is None,
                        },
                    ),
                )
        except StorageError as exc:
            report.skipped[sha] = f"store refused: {exc}"
            continue
        report.disposed.append(sha)
    return report
