"""The catalog side of an offload: a recorder's session, its file rows, resumes, batch registration.

``offload`` drives the copy and the put of each file and calls these, in the crash-safe order its
docstring gives; nothing here touches the store or the recorder's files. ``RecorderCtx`` is the state of
one recorder's offload that both modules share.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.core.timefmt import from_ns, utcnow
from liuhen.ingest import copy as _copy
from liuhen.ingest import flags
from liuhen.ingest.layout import Identity, SourceEntry
from liuhen.ingest.progress import ProgressSink
from liuhen.ingest.receipts import STORED, FileReceipt, Receipt
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.runtime import Runtime
from liuhen.storage.base import ObjectInfo

log = logging.getLogger("liuhen.ingest")
OnStored = Callable[[int], None]  # called with the files.id of each new original


@dataclass
class StoredFile:
    """A file put into the store whose catalog rows and event are written with its batch."""

    entry: SourceEntry
    fr: FileReceipt
    recorded: datetime | None
    duration: float | None
    until: datetime  # retention the store granted (or the default)


@dataclass
class RecorderCtx:
    runtime: Runtime
    receipt: Receipt
    identity: Identity | None
    recorder_key: str
    actor: str
    on_stored: OnStored | None
    progress: ProgressSink
    sm3: bool
    now: datetime
    sf_ids: dict[str, int] = field(default_factory=dict)
    prior_paths: set[str] | None = None  # source paths stored from this recorder before (resume candidates)
    batch: list[StoredFile] = field(default_factory=list)  # stored in the store, not yet in the catalog
    putter: ThreadPoolExecutor | None = None  # probes and puts a copied file while the next one is copied
    in_put: InPut | None = None  # the file being put (at most one)
    prestaged: dict[str, _copy.CopyResult | Exception] = field(default_factory=dict)  # copied before the loop


@dataclass
class InPut:
    entry: SourceEntry
    fr: FileReceipt
    recorded: datetime | None
    until: datetime
    future: Future[tuple[float | None, ObjectInfo]]


def open_session(
    ctx: RecorderCtx,
    port: Path,
    entries: list[SourceEntry],
    identity: Identity | None,
    id_error: str | None,
    docked_at: datetime,
) -> None:
    """One transaction: recorder/officer upserts, interrupted sessions closed, session + pending rows."""
    r = ctx.receipt
    ingestible = [e for e in entries if not e.problem]
    with ctx.runtime.catalog.tx() as conn:
        station_drift = _station_clock_drift(conn)
        if note := flags.station_clock_drift(station_drift, ctx.runtime.settings.clock_drift_tolerance_s):
            r.flags.append(flags.STATION_CLOCK_DRIFT)
            log.warning("%s", note)
        recorder_id = None
        if identity is not None:
            row = conn.execute(
                "INSERT INTO recorders (device_serial, officer_no, officer_name, unit_code, firmware) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (device_serial) DO UPDATE SET "
                "officer_no = EXCLUDED.officer_no, officer_name = EXCLUDED.officer_name, "
                "unit_code = EXCLUDED.unit_code, firmware = EXCLUDED.firmware, last_seen = now() RETURNING id",
                (
                    identity.device_serial,
                    identity.officer_no,
                    identity.officer_name,
                    identity.unit_code,
                    identity.firmware,
                ),
            ).fetchone()
            recorder_id = row["id"] if row else None
            if identity.officer_no:
                conn.execute(
                    "INSERT INTO officers (officer_no, name, unit_code) VALUES (%s, %s, %s) "
                    "ON CONFLICT (officer_no) DO UPDATE SET name = coalesce(EXCLUDED.name, officers.name), "
                    "unit_code = coalesce(EXCLUDED.unit_code, officers.unit_code)",
                    (identity.officer_no, identity.officer_name, identity.unit_code),
                )
        conn.execute(
            "UPDATE ingest_sessions SET status = 'incomplete', finished_at = now(), "
            "error = coalesce(error, 'interrupted: the ingesting process stopped before the receipt') "
            "WHERE recorder_key = %s AND status = 'running'",
            (ctx.recorder_key,),
        )
        ident: dict[str, Any] = dict(identity.as_dict()) if identity else {"error": id_error}
        ident["docked_at"] = docked_at.isoformat()
        ident["station"] = {"host": socket.gethostname(), "actor": ctx.actor, "clock_drift_s": round(station_drift, 3)}
        row = conn.execute(
            "INSERT INTO ingest_sessions (recorder_id, device_serial, dock_path, port, files_total, bytes_total, "
            "identity, recorder_key, flags, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                recorder_id,
                identity.device_serial if identity else None,
                r.dock,
                r.port,
                len(entries),
                sum(e.size for e in ingestible),
                json.dumps(ident, ensure_ascii=False),
                ctx.recorder_key,
                r.flags,
                ctx.actor,
            ),
        ).fetchone()
        assert row is not None
        r.session_id = int(row["id"])
        _insert_session_files(conn, ctx, entries)


def _insert_session_files(conn: Any, ctx: RecorderCtx, entries: list[SourceEntry]) -> None:
    """One ``session_files`` row per entry, sent in one pipeline (not a round trip per file)."""
    if not entries:
        return
    rows = [(ctx.receipt.session_id, e.display, e.size, from_ns(e.mtime_ns) if e.mtime_ns else None,
             e.mtime_ns or None, e.raw_hex, ctx.recorder_key, e.flags) for e in entries]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO session_files (session_id, source_path, size, mtime, mtime_ns, raw_path_hex, "
            "recorder_key, flags) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (session_id, source_path) DO NOTHING RETURNING id",
            rows,
            returning=True,
        )
        for e in entries:  # one result per row, in order
            got = cur.fetchone()
            if got is not None:
                ctx.sf_ids[e.display] = int(got["id"])
            cur.nextset()


def _station_clock_drift(conn: Any) -> float:
    """Station clock minus the database's, in seconds (the transaction's start; a few ms of round trip)."""
    row = conn.execute("SELECT now() AS t").fetchone()
    local = utcnow()
    return (local - row["t"]).total_seconds() if row else 0.0


def mark_failed(ctx: RecorderCtx, fr: FileReceipt) -> None:
    sf = ctx.sf_ids.get(fr.path)
    if sf is None:
        return
    try:
        with ctx.runtime.catalog.tx() as conn:
            conn.execute(
                "UPDATE session_files SET status = 'failed', error = %s, flags = %s, updated_at = now() WHERE id = %s",
                (f"{fr.status}: {fr.error}", fr.flags, sf),
            )
    except Exception as exc:  # the catalog itself may be what failed; the receipt still says why
        log.warning("cannot record failure of %s: %s", fr.path, exc)


def prior_paths(ctx: RecorderCtx) -> set[str]:
    """Source paths stored from this recorder before (looked up once, before this session stores any)."""
    if ctx.prior_paths is None:
        rows = ctx.runtime.catalog.all(
            "SELECT DISTINCT source_path FROM session_files WHERE recorder_key = %s AND status = 'stored'",
            (ctx.recorder_key,),
        )
        ctx.prior_paths = {r["source_path"] for r in rows}
    return ctx.prior_paths


def resume(ctx: RecorderCtx, e: SourceEntry, fr: FileReceipt) -> bool:
    """Already stored from this recorder at the same path, size and mtime: reuse, don't copy again."""
    if e.display not in prior_paths(ctx):
        return False
    row = ctx.runtime.catalog.one(
        "SELECT sf.file_id, sf.sha256, sf.sm3, sf.event_id, sf.flags, f.storage_key, f.storage_version "
        "FROM session_files sf JOIN files f ON f.id = sf.file_id "
        "WHERE sf.recorder_key = %s AND sf.source_path = %s AND sf.size = %s AND sf.mtime_ns = %s "
        "AND sf.status = 'stored' AND sf.session_id <> %s ORDER BY sf.id DESC LIMIT 1",
        (ctx.recorder_key, e.display, e.size, e.mtime_ns, ctx.receipt.session_id),
    )
    if row is None or (ctx.sm3 and row["sm3"] is None):
        return False
    fr.file_id, fr.sha256, fr.sm3, fr.event_id = row["file_id"], row["sha256"], row["sm3"], row["event_id"]
    fr.storage_key, fr.storage_version = row["storage_key"], row["storage_version"]
    fr.flags = sorted(set(fr.flags) | set(row["flags"] or []))
    fr.resumed, fr.status = True, STORED
    with ctx.runtime.catalog.tx() as conn:
        mark_stored(conn, ctx, fr, e)
    return True


def mark_stored(conn: Any, ctx: RecorderCtx, fr: FileReceipt, e: SourceEntry) -> None:
    conn.execute(
        "UPDATE session_files SET status = 'stored', file_id = %s, sha256 = %s, sm3 = %s, event_id = %s, "
        "flags = %s, recorded_at = %s, resumed = %s, error = NULL, updated_at = now() WHERE id = %s",
        (fr.file_id, fr.sha256, fr.sm3, fr.event_id, fr.flags, fr.recorded_at, fr.resumed, ctx.sf_ids.get(fr.path)),
    )
    conn.execute(
        "UPDATE ingest_sessions SET files_done = files_done + 1, bytes_done = bytes_done + %s, "
        "updated_at = now() WHERE id = %s",
        (e.size, ctx.receipt.session_id),
    )


def register_file(conn: Any, ctx: RecorderCtx, b: StoredFile) -> bool:
    """Files row (by digest), ingestion event, session row marked stored; True if the original is new."""
    fr = b.fr
    fr.file_id, inserted = upsert_file(conn, ctx, fr, b.recorded, b.duration, b.until)
    if not inserted:
        duplicate_flags(conn, ctx, fr)
    if fr.event_id is None:
        fr.event_id = record(conn, ingestion_event(ctx.actor, ctx.receipt, ctx.identity, ctx.recorder_key, fr))
        if inserted:
            conn.execute("UPDATE files SET ingest_event_id = %s WHERE id = %s", (fr.event_id, fr.file_id))
    fr.status = STORED
    mark_stored(conn, ctx, fr, b.entry)
    return inserted


def upsert_file(
    conn: Any, ctx: RecorderCtx, fr: FileReceipt, recorded: datetime | None, duration: float | None, until: datetime
) -> tuple[int, bool]:
    """The ``files`` row by SHA-256 (merging digests and flags); returns (id, newly inserted)."""
    ident = ctx.identity
    row = conn.execute(
        "INSERT INTO files (sha256, sm3, size, media_kind, ext, original_name, device_serial, officer_no, "
        "unit_code, recorded_at, duration_s, storage_key, storage_version, retention_until, flags) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (sha256) DO UPDATE SET sm3 = coalesce(files.sm3, EXCLUDED.sm3), "
        "flags = ARRAY(SELECT DISTINCT unnest(files.flags || EXCLUDED.flags) ORDER BY 1) "
        "RETURNING id, (xmax = 0) AS inserted, ingest_event_id",
        (
            fr.sha256,
            fr.sm3,
            fr.size,
            fr.media_kind,
            os.path.splitext(fr.path)[1].lstrip(".").lower() or None,
            os.path.basename(fr.path),
            ident.device_serial if ident else None,
            ident.officer_no if ident else None,
            ident.unit_code if ident else None,
            recorded,
            duration,
            fr.storage_key,
            fr.storage_version,
            until,
            fr.flags,
        ),
    ).fetchone()
    assert row is not None
    return int(row["id"]), bool(row["inserted"])


def duplicate_flags(conn: Any, ctx: RecorderCtx, fr: FileReceipt) -> None:
    """Content seen before: flag duplicates; the same sighting re-read reuses its event (resumed)."""
    others = conn.execute(
        "SELECT DISTINCT recorder_key FROM session_files WHERE file_id = %s AND status = 'stored' "
        "AND recorder_key <> %s",
        (fr.file_id, ctx.recorder_key),
    ).fetchall()
    if others:
        fr.flags.append("duplicate_across_recorders")
        fr.notes.append("same content already ingested from " + ", ".join(o["recorder_key"] for o in others))
    prior = conn.execute(
        "SELECT event_id, source_path FROM session_files WHERE file_id = %s AND status = 'stored' "
        "AND recorder_key = %s ORDER BY (source_path = %s) DESC, id LIMIT 1",
        (fr.file_id, ctx.recorder_key, fr.path),
    ).fetchone()
    if prior is not None and prior["source_path"] == fr.path:
        fr.event_id, fr.resumed = prior["event_id"], True  # same sighting, re-read: no new event
    elif prior is not None:
        fr.flags.append("duplicate_within_recorder")
        fr.notes.append(f"same content as {prior['source_path']} on this recorder")


def ingestion_event(actor: str, r: Receipt, ident: Identity | None, recorder_key: str, fr: FileReceipt) -> Event:
    """The ``ingestion`` audit event of one stored file (pure)."""
    return Event(
        "ingestion",
        actor,
        subject={"sha256": fr.sha256},
        data={
            "size": fr.size,
            "sm3": fr.sm3,
            "storage_key": fr.storage_key,
            "storage_version": fr.storage_version,
            "device_serial": ident.device_serial if ident else None,
            "officer_no": ident.officer_no if ident else None,
            "unit_code": ident.unit_code if ident else None,
            "recorder_key": recorder_key,
            "source_path": fr.path,
            "raw_path_hex": fr.raw_path_hex,
            "recorded_at": fr.recorded_at,
            "mtime": fr.mtime,
            "ingest_session": r.session_id,
            "dock": r.dock,
            "port": r.port,
            "flags": fr.flags,
        },
    )
