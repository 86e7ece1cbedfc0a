"""Retention policy for originals (公安机关现场执法视音频记录工作规定 Art. 13: ≥ 6 months; permanently
when the footage is evidence).

- **At ingest** every original gets COMPLIANCE retention until ``now + Settings.retention_days``
  (≥ 180): the storage rule ``storage.util.default_until``, applied by ``ingest.offload``.
- **On link** to a case the original is put under legal hold: ``hold_for_link``. Unlinking never
  releases it. The hold stays until an explicit release (``release_hold``; the API requires a
  supervisor for it), which is refused while any link is active and — permanently — once any case
  that ever linked the file has reached 'decision' (决定) or a later stage.
- **Derivatives** (proxies, thumbnails) are not locked; they are reproducible from originals (I7).
- **Disposal** (``dispose_expired``) is the one path that removes an original (I4): only files whose
  retention has expired — per the catalog *and* per the store — that have no legal hold, no active
  row in ``links`` (``unlinked_at IS NULL``) and were never linked to a case that reached 'decision'.
  Each removal commits with a ``disposal`` audit event and ``files.status = 'disposed'``. An original
  found missing from the store is *not* a disposal: it gets a failed ``fixity.check`` event, keeps its
  status, and is listed in ``DisposalReport.missing``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg

from liuhen.catalog.db import Catalog
from liuhen.catalog.stages import stages_from
from liuhen.core.timefmt import as_utc, utcnow
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.storage.base import ObjectStore
from liuhen.storage.errors import ObjectLocked, ObjectNotFound, StorageError

log = logging.getLogger("liuhen.storage.retention")

_ACTIVE_LINKS = "SELECT count(*) AS n FROM links WHERE file_id = %s AND unlinked_at IS NULL"
# Stages from which a case's evidence is kept permanently: its holds can no longer be released.
DECIDED_STAGES = stages_from("decision")
_DECIDED_CASES = (
    "SELECT DISTINCT c.case_no, c.stage FROM links l JOIN cases c ON c.id = l.case_id "
    "WHERE l.file_id = %s AND c.stage = ANY(%s) ORDER BY c.case_no"
)


def hold_for_link(
    conn: psycopg.Connection[Any],
    store: ObjectStore,
    *,
    file: dict[str, Any],
    actor: str,
    case_no: str,
    link_id: int | None = None,
) -> bool:
    """Put a linked original under legal hold, in the link's transaction (the one definition).

    ``file`` is its ``files`` row (``id``, ``sha256``, ``storage_key``, ``legal_hold``), locked by the
    caller. The store's hold is set first (idempotent and only ever protective), then
    ``files.legal_hold`` and a ``hold.set`` event. Returns True when the hold was newly set.
    """
    if file["legal_hold"]:
        return False
    store.set_legal_hold(file["storage_key"], True)
    conn.execute("UPDATE files SET legal_hold = true WHERE id = %s", (file["id"],))
    record(
        conn,
        Event(
            "hold.set",
            actor,
            subject={"case": case_no, "sha256": file["sha256"]},
            data={"reason": "linked as evidence", "link_id": link_id},
        ),
    )
    return True


def release_hold(
    conn: psycopg.Connection[Any],
    store: ObjectStore,
    *,
    sha256: str,
    actor: str,
    reason: str,
    data: dict[str, Any] | None = None,
) -> bool:
    """Release the legal hold of an original, in the caller's transaction; True if it was held.

    Refused (``ObjectLocked``) while any case link is active, and once any case that ever linked the
    file (active or unlinked) has reached 'decision' or later — that footage is evidence and is kept
    permanently. Who may call this is the caller's policy (``api.cases.release_hold``: supervisors).
    The catalog row and the ``hold.release`` event are written first and the store's hold is released
    last, so a store failure rolls everything back; should the commit fail after the store call, the
    catalog still says held and ``dispose_expired`` (which needs both released) keeps the object.
    """
    if not reason.strip():
        raise ValueError("releasing a legal hold needs a reason")
    row = conn.execute(
        "SELECT id, storage_key, legal_hold FROM files WHERE sha256 = %s FOR UPDATE", (sha256,)
    ).fetchone()
    if row is None:
        raise ObjectNotFound(f"no catalogued original with sha256 {sha256}")
    active = conn.execute(_ACTIVE_LINKS, (row["id"],)).fetchone()
    if active and active["n"]:
        raise ObjectLocked(f"{sha256} is still linked to a case ({active['n']} active link(s)); unlink it first")
    decided = conn.execute(_DECIDED_CASES, (row["id"], list(DECIDED_STAGES))).fetchall()
    if decided:
        names = ", ".join(f"{d['case_no']} ({d['stage']})" for d in decided)
        raise ObjectLocked(
            f"{sha256} was evidence in a case that reached a decision ({names}); it is kept permanently "
            "and its legal hold cannot be released (Art. 13)"
        )
    if not row["legal_hold"]:
        return False
    conn.execute("UPDATE files SET legal_hold = false WHERE id = %s", (row["id"],))
    record(
        conn,
        Event(
            "hold.release",
            actor,
            subject={"sha256": sha256},
            data={**(data or {}), "key": row["storage_key"], "reason": reason},
        ),
    )
    store.set_legal_hold(row["storage_key"], False)
    return True


@dataclass
class DisposalReport:
    disposed: list[str] = field(default_factory=list)  # sha256 of originals removed
    skipped: dict[str, str] = field(default_factory=dict)  # sha256 -> why not
    missing: list[str] = field(default_factory=list)  # sha256 of originals NOT in the store (fixity failure)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """False when an original was found missing from the store (an incident, not a disposal)."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "disposed": self.disposed,
            "skipped": self.skipped,
            "missing": self.missing,
            "ok": self.ok,
            "dry_run": self.dry_run,
        }


_CANDIDATES = """
SELECT f.id, f.sha256, f.size, f.storage_key, f.retention_until
  FROM files f
 WHERE f.status = 'stored' AND NOT f.legal_hold
   AND f.retention_until IS NOT NULL AND f.retention_until <= %s
   AND NOT EXISTS (SELECT 1 FROM links l WHERE l.file_id = f.id AND l.unlinked_at IS NULL)
   AND NOT EXISTS (SELECT 1 FROM links l JOIN cases c ON c.id = l.case_id
                    WHERE l.file_id = f.id AND c.stage = ANY(%s))
 ORDER BY f.retention_until, f.id
 LIMIT %s
"""

MISSING = "original missing from store"


def _record_missing(catalog: Catalog, store: ObjectStore, actor: str, c: dict[str, Any]) -> None:
    """A failed ``fixity.check`` for an original the disposal job found absent; the row is left as is."""
    log.error(
        "disposal: original %s (key %s) is MISSING from store %s; not recorded as a disposal — investigate",
        c["sha256"],
        c["storage_key"],
        store.name,
    )
    with catalog.tx() as conn:
        record(
            conn,
            Event(
                "fixity.check",
                actor,
                subject={"sha256": c["sha256"]},
                data={
                    "outcome": "fail",
                    "mode": "disposal",
                    "file_id": c["id"],
                    "problems": [MISSING],
                    "key": c["storage_key"],
                    "store": store.name,
                },
            ),
        )


def dispose_expired(
    catalog: Catalog, store: ObjectStore, actor: str, *, dry_run: bool = False, limit: int = 10_000
) -> DisposalReport:
    """Remove expired, unlinked, unheld originals; one ``disposal`` event per object.

    Per object, in one transaction: lock the ``files`` row (a concurrent link insert waits on it),
    re-check links and hold, ``store.dispose`` (which itself refuses anything retained or held),
    mark the row disposed and record the event. If the store refuses, the transaction rolls back and
    nothing is recorded.

    An original already absent from the store was not disposed of by us: it is reported in
    ``missing`` (and logged at ERROR), gets a failed ``fixity.check`` event ("original missing from
    store"), and its ``files`` row is left unchanged — a misconfigured store must never turn into a
    wave of recorded disposals.
    """
    now = utcnow()
    report = DisposalReport(dry_run=dry_run)
    for c in catalog.all(_CANDIDATES, (now, list(DECIDED_STAGES), limit)):
        sha, key = c["sha256"], c["storage_key"]
        try:
            info = store.head(key)
        except ObjectNotFound:
            report.missing.append(sha)
            report.skipped[sha] = MISSING
            if not dry_run:
                _record_missing(catalog, store, actor, c)
            continue
        if info.legal_hold:
            report.skipped[sha] = "legal hold set in the store"
            continue
        if info.retain_until is None or info.retain_until > now:
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
                decided = conn.execute(_DECIDED_CASES, (c["id"], list(DECIDED_STAGES))).fetchall()
                if row is None or row["status"] != "stored" or row["legal_hold"] or (active and active["n"]) or decided:
                    report.skipped[sha] = "linked, held or already disposed meanwhile"
                    continue
                store.dispose(key)
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
                            "version": info.version,
                            "retention_until": as_utc(c["retention_until"]).isoformat(),
                        },
                    ),
                )
        except StorageError as exc:
            report.skipped[sha] = f"store refused: {exc}"
            continue
        report.disposed.append(sha)
    if report.missing:
        log.error("disposal: %d original(s) missing from the store: %s", len(report.missing), report.missing)
    return report
