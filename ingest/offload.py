"""Offload docked recorders: one pass per byte, crash-safe, verified before a recorder may be wiped.

Per file, in this order (each step is idempotent, so a crash anywhere is repaired by running again):

1. copy into a staging file next to the store while hashing (``ingest.copy``), fsync; with the local
   store the writer is the store's (``store.open_staging``), so the store computed the digest itself;
2. ``store.put(staging, sha256=…, retain_until=…)`` — verified (for a staged file: expected vs the
   digest the store computed while writing it, no second read); a no-op when already stored;
3. per batch of a recorder's stored files (``BATCH_FILES`` / ``BATCH_BYTES``), one catalog transaction:
   upsert each ``files`` row by SHA-256, mark its ``session_files`` row stored, record its ``ingestion``
   audit event (if the batch transaction fails, each file is retried in its own, so one bad file fails alone);
4. one ``integrity.log.sequence`` gives the batch's events their log indexes; ``on_stored(file_id)`` is
   called for new originals.

A crash after 1 leaves an orphan staging file (removed by the next run); after 2 objects without rows
(the next run's put is a no-op and the rows are written); after 3 pending events (the next
``sequence`` indexes them). Nothing is ever half-registered, because step 3 is one transaction.
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.core.timefmt import from_ns, utcnow
from liuhen.ingest import copy as _copy
from liuhen.ingest import flags
from liuhen.ingest.errors import error_code
from liuhen.ingest.layout import Identity, SourceEntry, discover, kind_of, parse_name, parse_offset, read_identity, scan
from liuhen.ingest.probe import quick_probe
from liuhen.ingest.progress import NullProgress, ProgressSink
from liuhen.ingest.receipts import FAILED, REJECTED, SKIPPED, STORED, FileReceipt, Receipt, finalize
from liuhen.integrity.events import Event
from liuhen.integrity.log import record, sequence
from liuhen.runtime import Runtime
from liuhen.storage.base import ObjectInfo, key_for
from liuhen.storage.util import default_until

log = logging.getLogger("liuhen.ingest")
OnStored = Callable[[int], None]

_busy_lock = threading.Lock()
_busy: set[str] = set()


def _crash_point(name: str) -> None:
    """Test hook: ``LIUHEN_INGEST_CRASH=<point>:<n>`` SIGKILLs this process the n-th time it passes."""
    spec = os.environ.get("LIUHEN_INGEST_CRASH")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    with _busy_lock:
        _crash_counts[name] = _crash_counts.get(name, 0) + 1
        hit = _crash_counts[name] >= int(nth or 1)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)


_crash_counts: dict[str, int] = {}


def ingest_path(
    runtime: Runtime,
    path: Path | str,
    *,
    actor: str,
    on_stored: OnStored | None = None,
    progress: ProgressSink | None = None,
    parallelism: int | None = None,
    docked_at: datetime | None = None,
) -> list[Receipt]:
    """Offload one recorder port directory, or every recorder docked in a dock directory.

    Recorders are offloaded concurrently (``Settings.ingest_parallelism`` at a time). Returns one
    receipt per recorder, in port order. Per-file failures are in the receipts, never raised.
    """
    _copy.check_digests(runtime.settings.digests)
    ports = discover(Path(path))
    n = max(1, min(parallelism or runtime.settings.ingest_parallelism, len(ports) or 1))
    runtime.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    _copy.clean_orphans(runtime.settings.staging_dir)
    if n == 1:
        return [
            offload_recorder(runtime, p, actor=actor, on_stored=on_stored, progress=progress, docked_at=docked_at)
            for p in ports
        ]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="offload") as pool:
        # each recorder runs in a copy of this context, so the caller's event origin (CLI) carries over
        futs = [
            pool.submit(
                contextvars.copy_context().run,
                offload_recorder,
                runtime,
                p,
                actor=actor,
                on_stored=on_stored,
                progress=progress,
                docked_at=docked_at,
            )
            for p in ports
        ]
        return [f.result() for f in futs]


@dataclass
class _Stored:
    """A file put into the store whose catalog rows and event are written with its batch."""

    entry: SourceEntry
    fr: FileReceipt
    recorded: datetime | None
    duration: float | None
    until: datetime  # retention the store granted (or the default)


BATCH_FILES = 64  # files of one recorder registered in one transaction and sequenced together
BATCH_BYTES = 512 << 20


@dataclass
class _Ctx:
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
    batch: list[_Stored] = field(default_factory=list)  # stored in the store, not yet in the catalog
    putter: ThreadPoolExecutor | None = None  # probes and puts a copied file while the next one is copied
    in_put: _InPut | None = None  # the file being put (at most one)
    prestaged: dict[str, _copy.CopyResult | Exception] = field(default_factory=dict)  # copied before the loop


@dataclass
class _InPut:
    entry: SourceEntry
    fr: FileReceipt
    recorded: datetime | None
    until: datetime
    future: Future[tuple[float | None, ObjectInfo]]


def recorder_key_for(identity: Identity | None, entries: list[SourceEntry], port: Path) -> str:
    """Identity's serial; without identity, the serial all file names agree on; else the port path."""
    if identity is not None:
        return identity.device_serial
    serials = {p.serial for e in entries if (p := parse_name(os.path.basename(e.display)))}
    if len(serials) == 1:
        return f"unidentified:{serials.pop()}"
    return f"unidentified:port:{port.resolve()}"


def offload_recorder(
    runtime: Runtime,
    port: Path,
    *,
    actor: str,
    on_stored: OnStored | None = None,
    progress: ProgressSink | None = None,
    docked_at: datetime | None = None,
) -> Receipt:
    """Offload one docked recorder and return its (stored, logged) receipt."""
    settings = runtime.settings
    port = Path(port)
    now = utcnow()
    docked_at = docked_at or now
    progress = progress or NullProgress()
    identity, id_error = read_identity(port)
    receipt = Receipt(
        session_id=None,
        dock=str(port.parent.resolve()),
        port=port.name,
        recorder_key="",
        device=identity.as_dict() if identity else None,
        started_at=now.isoformat(),
        digests=list(settings.digests),
        store=getattr(runtime.store, "name", type(runtime.store).__name__),
        actor=actor,
    )
    try:
        entries = scan(port)
    except OSError as exc:
        receipt.recorder_key = f"unidentified:port:{port}"
        receipt.error = f"recorder_unreadable: {exc.strerror or exc}"
        return finalize(runtime, receipt)
    key = recorder_key_for(identity, entries, port)
    receipt.recorder_key = key
    if identity is None:
        receipt.flags.append("missing_identity")
        receipt.reasons.append(id_error or "identity missing")
    elif drift := flags.device_clock_drift(identity.clock, docked_at, settings.clock_drift_tolerance_s):
        receipt.flags.append(flags.CLOCK_DRIFT)
        receipt.reasons.append(drift)
    with _busy_lock:
        if key in _busy:
            receipt.error = f"busy: recorder {key} is being offloaded by another pass in this process"
            receipt.status = "failed"
            return receipt
        _busy.add(key)
    try:
        ctx = _Ctx(runtime, receipt, identity, key, actor, on_stored, progress, "sm3" in settings.digests, now)
        label = f"{port.name} {identity.device_serial if identity else '(no identity)'}"
        progress.recorder_started(key, label, len(entries), sum(e.size for e in entries if not e.problem))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="offload-put") as ctx.putter:
            try:
                _open_session_copying_first(ctx, port, entries, identity, id_error, docked_at)
            except Exception as exc:
                log.error("ingest %s: cannot open a session: %s", port, exc)
                receipt.error = f"{error_code(exc)}: cannot record the session: {exc}"
                for e in entries:
                    receipt.files.append(_entry_receipt(e, status=FAILED, error=receipt.error))
                progress.recorder_finished(key, receipt)
                return finalize(runtime, receipt)
            _offload_entries(ctx, entries)
        ctx.putter = None
        sequenced = _flush(ctx)
        _crash_point("before_receipt")
        try:
            if not sequenced:  # e.g. only resumed files, whose events an interrupted run left pending
                sequence(runtime.catalog)
            finalize(runtime, receipt)
        except Exception as exc:
            log.error("ingest %s: cannot store the receipt: %s", port, exc)
            receipt.error = f"{error_code(exc)}: cannot store the receipt: {exc}"
            receipt.safe_to_wipe = False
            receipt.status = "incomplete"
            receipt.reasons.insert(0, receipt.error)
        _crash_point("after_receipt")
        progress.recorder_finished(key, receipt)
        return receipt
    finally:
        with _busy_lock:
            _busy.discard(key)


def _offload_entries(ctx: _Ctx, entries: list[SourceEntry]) -> None:
    """Every entry in order: copied here, put by ``ctx.putter`` while the next is copied, registered per batch."""
    for e in entries:
        fr = _ingest_one(ctx, e)
        ctx.receipt.files.append(fr)
        if not (ctx.in_put and ctx.in_put.fr is fr) and not any(b.fr is fr for b in ctx.batch):
            ctx.progress.file_done(ctx.recorder_key, fr.path, fr.status)
        if len(ctx.batch) >= BATCH_FILES or sum(b.fr.size or 0 for b in ctx.batch) >= BATCH_BYTES:
            _flush(ctx)
    _finish_put(ctx)


def _open_session_copying_first(ctx: _Ctx, port: Path, entries: list[SourceEntry], identity: Identity | None,
                                id_error: str | None, docked_at: datetime) -> None:
    """Open the session (its transaction runs in the put thread) while the first new file is copied here.

    A copy needs no catalog row — only its registration does, and the put thread opens the session
    before it runs any put. If the session cannot be opened, the staged copy is removed and this raises.
    """
    assert ctx.putter is not None
    opening = ctx.putter.submit(_open_session, ctx, port, entries, identity, id_error, docked_at)
    first = next((e for e in entries if not e.problem), None)
    try:
        if first is not None and first.display not in _prior_paths(ctx):
            try:
                ctx.prestaged[first.display] = _copy_staged(ctx, first)
            except Exception as exc:  # reported as that file's failure once the session is open
                ctx.prestaged[first.display] = exc
    except Exception as exc:  # the catalog cannot say whether it is a resume: copy it in order instead
        log.debug("ingest %s: no early copy: %s", port, exc)
    try:
        opening.result()
    except Exception:
        for res in ctx.prestaged.values():
            if isinstance(res, _copy.CopyResult):
                res.staging.unlink(missing_ok=True)
        ctx.prestaged.clear()
        raise


def _entry_receipt(e: SourceEntry, *, status: str = FAILED, error: str | None = None) -> FileReceipt:
    return FileReceipt(
        path=e.display,
        size=e.size if not e.problem else None,
        mtime=from_ns(e.mtime_ns).isoformat() if e.mtime_ns else None,
        raw_path_hex=e.raw_hex,
        flags=list(e.flags),
        status=status,
        error=error,
    )


def _open_session(
    ctx: _Ctx,
    port: Path,
    entries: list[SourceEntry],
    identity: Identity | None,
    id_error: str | None,
    docked_at: datetime,
) -> None:
    """One transaction: recorder/officer upserts, interrupted sessions closed, session + pending rows."""
    import json

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


def _insert_session_files(conn: Any, ctx: _Ctx, entries: list[SourceEntry]) -> None:
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


def _mark_failed(ctx: _Ctx, fr: FileReceipt) -> None:
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


def _ingest_one(ctx: _Ctx, e: SourceEntry) -> FileReceipt:
    fr = _entry_receipt(e, status=FAILED)
    settings = ctx.runtime.settings
    base = os.path.basename(e.display)
    parsed = parse_name(base)
    ext = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    fr.media_kind = kind_of(ext)
    tz = ctx.identity.tz if ctx.identity else timezone_default()
    recorded = parsed.recorded_at(tz) if parsed else None
    if parsed is None:
        fr.flags.append("bad_name")
    elif ctx.identity is not None and (
        parsed.serial != ctx.identity.device_serial
        or (ctx.identity.officer_no and parsed.officer_no != ctx.identity.officer_no)
    ):
        fr.flags.append("name_identity_mismatch")
    if fr.media_kind == "unknown":
        fr.flags.append("unknown_media_type")
    fr.recorded_at = recorded.isoformat() if recorded else None
    if e.problem:
        fr.status = (
            SKIPPED
            if e.problem == "symlink_inside"
            else (REJECTED if e.problem in ("symlink_outside", "not_regular_file") else FAILED)
        )
        fr.error = f"{e.problem}: {e.detail}"
        if fr.status != SKIPPED:
            log.warning("ingest %s: %s", e.display, fr.error)
        _mark_failed(ctx, fr)
        return fr
    try:
        if _resume(ctx, e, fr):
            ctx.progress.advance(ctx.recorder_key, e.size)
            return fr
        _store_new(ctx, e, fr, recorded, settings)
    except Exception as exc:
        _file_failed(ctx, fr, exc)
    return fr


def _file_failed(ctx: _Ctx, fr: FileReceipt, exc: Exception) -> None:
    fr.status = FAILED
    fr.error = f"{error_code(exc)}: {exc}"
    log.warning("ingest %s/%s failed: %s", ctx.receipt.port, fr.path, fr.error)
    _mark_failed(ctx, fr)


def timezone_default() -> Any:

    return parse_offset(None)


def _prior_paths(ctx: _Ctx) -> set[str]:
    """Source paths stored from this recorder before (looked up once, before this session stores any)."""
    if ctx.prior_paths is None:
        rows = ctx.runtime.catalog.all(
            "SELECT DISTINCT source_path FROM session_files WHERE recorder_key = %s AND status = 'stored'",
            (ctx.recorder_key,),
        )
        ctx.prior_paths = {r["source_path"] for r in rows}
    return ctx.prior_paths


def _resume(ctx: _Ctx, e: SourceEntry, fr: FileReceipt) -> bool:
    """Already stored from this recorder at the same path, size and mtime: reuse, don't copy again."""
    if e.display not in _prior_paths(ctx):
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
        _mark_stored(conn, ctx, fr, e)
    return True


def _mark_stored(conn: Any, ctx: _Ctx, fr: FileReceipt, e: SourceEntry) -> None:
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


def _time_flags(ctx: _Ctx, fr: FileReceipt, e: SourceEntry, recorded: datetime | None, duration: float | None) -> None:
    """The ``ingest.flags`` rules applied to one file as it is stored."""
    settings = ctx.runtime.settings
    tol = settings.clock_drift_tolerance_s
    mtime = from_ns(e.mtime_ns)
    span = 0.0 if fr.media_kind == "photo" else duration
    drift = flags.mtime_drift(recorded, mtime, span, tol) or flags.clock_ahead(recorded, ctx.now, tol)
    if drift:
        fr.flags.append(flags.CLOCK_DRIFT)
        fr.notes.append(drift)
    late = flags.late_upload(recorded or mtime, ctx.now, settings.late_upload_hours)
    if late:
        fr.flags.append(flags.LATE_UPLOAD)
        fr.notes.append(late)


def _store_new(ctx: _Ctx, e: SourceEntry, fr: FileReceipt, recorded: datetime | None, settings: Any) -> None:
    """Copy one new file, then probe, flag and put it while the next one is copied (``_finish_put``); its
    row and event are written with its batch (``_flush``), which waits for the put."""
    until = default_until(settings.retention_days)
    early = ctx.prestaged.pop(e.display, None)  # copied while the session was opened
    if isinstance(early, Exception):
        raise early
    res = early if early is not None else _copy_staged(ctx, e)
    _finish_put(ctx)  # the previous file's put, before this one's starts (one at a time, in order)
    if ctx.putter is None:
        _stored(ctx, e, fr, recorded, until, _probe_and_put(ctx, e, fr, res, recorded, until))
        return
    ctx.in_put = _InPut(e, fr, recorded, until, ctx.putter.submit(_probe_and_put, ctx, e, fr, res, recorded, until))


def _finish_put(ctx: _Ctx) -> None:
    """Wait for the file being put, if any: into the batch when stored, marked failed when not."""
    p, ctx.in_put = ctx.in_put, None
    if p is None:
        return
    try:
        done = p.future.result()
    except Exception as exc:
        _file_failed(ctx, p.fr, exc)
        ctx.progress.file_done(ctx.recorder_key, p.fr.path, p.fr.status)
        return
    _stored(ctx, p.entry, p.fr, p.recorded, p.until, done)


def _stored(ctx: _Ctx, e: SourceEntry, fr: FileReceipt, recorded: datetime | None, until: datetime,
            done: tuple[float | None, ObjectInfo]) -> None:
    duration, info = done
    fr.storage_key, fr.storage_version = info.key or key_for(fr.sha256 or ""), info.version
    ctx.batch.append(_Stored(e, fr, recorded, duration, info.retain_until or until))


def _flush(ctx: _Ctx) -> bool:
    """Register the batch: one transaction for all its files, one sequencing, then ``on_stored``; True if
    that sequencing ran (so every event committed before it has its index).

    A crash before the COMMIT leaves objects without rows (the next run's put is a no-op and registers
    them); after it, pending events (the next ``sequence`` indexes them). If the batch transaction fails,
    each file is retried in its own transaction, so one bad file fails alone, as without batching.
    """
    items, ctx.batch = ctx.batch, []
    if not items:
        return False
    rt = ctx.runtime
    saved = [(b.fr.flags[:], b.fr.notes[:], b.fr.status, b.fr.event_id, b.fr.resumed) for b in items]
    try:
        with rt.catalog.tx() as conn:
            inserted = [_register(conn, ctx, b) for b in items]
    except Exception as exc:
        log.warning("ingest %s: batch of %d failed (%s); registering one by one", ctx.receipt.port, len(items), exc)
        inserted = []
        for b, (flags_, notes, status, event_id, resumed) in zip(items, saved, strict=True):
            b.fr.flags, b.fr.notes, b.fr.status, b.fr.event_id, b.fr.resumed = flags_, notes, status, event_id, resumed
            try:
                with rt.catalog.tx() as conn:
                    inserted.append(_register(conn, ctx, b))
            except Exception as one:
                b.fr.status, b.fr.error = FAILED, f"{error_code(one)}: {one}"
                log.warning("ingest %s/%s failed: %s", ctx.receipt.port, b.fr.path, b.fr.error)
                _mark_failed(ctx, b.fr)
                inserted.append(False)
    _crash_point("after_tx")
    sequenced = True
    try:
        sequence(rt.catalog)
    except Exception as exc:  # the events are committed (pending); the receipt's sequencing retries
        sequenced = False
        log.warning("ingest %s: sequencing failed: %s", ctx.receipt.port, exc)
    _crash_point("after_sequence")
    for b, new in zip(items, inserted, strict=True):
        ctx.progress.file_done(ctx.recorder_key, b.fr.path, b.fr.status)
        if new and ctx.on_stored is not None and b.fr.file_id is not None:
            try:
                ctx.on_stored(b.fr.file_id)
            except Exception as exc:  # downstream trouble never fails an ingest
                log.warning("on_stored(%s) failed: %s", b.fr.file_id, exc)
    return sequenced


def _register(conn: Any, ctx: _Ctx, b: _Stored) -> bool:
    """Files row (by digest), ingestion event, session row marked stored; True if the original is new."""
    fr = b.fr
    fr.file_id, inserted = _upsert_file(conn, ctx, fr, b.recorded, b.duration, b.until)
    if not inserted:
        _duplicate_flags(conn, ctx, fr)
    if fr.event_id is None:
        fr.event_id = record(conn, ingestion_event(ctx.actor, ctx.receipt, ctx.identity, ctx.recorder_key, fr))
        if inserted:
            conn.execute("UPDATE files SET ingest_event_id = %s WHERE id = %s", (fr.event_id, fr.file_id))
    fr.status = STORED
    _mark_stored(conn, ctx, fr, b.entry)
    return inserted


def _copy_staged(ctx: _Ctx, e: SourceEntry) -> _copy.CopyResult:
    """Stage the bytes while hashing (fsynced)."""
    return _copy.copy_and_hash(
        e.raw,
        ctx.runtime.settings.staging_dir,
        sm3=ctx.sm3,
        on_bytes=lambda n: ctx.progress.advance(ctx.recorder_key, n),
        open_staging=getattr(ctx.runtime.store, "open_staging", None),  # the local store hashes as it writes
    )


def _probe_and_put(
    ctx: _Ctx, e: SourceEntry, fr: FileReceipt, res: _copy.CopyResult, recorded: datetime | None, until: datetime
) -> tuple[float | None, ObjectInfo]:
    """Probe and flag a staged file and put it in the store (verified); the staging name is removed."""
    rt = ctx.runtime
    try:
        _crash_point("after_copy")
        fr.sha256, fr.sm3, fr.size = res.sha256, res.sm3, res.size
        duration = _probe_flags(fr, res.staging, res.size)
        _time_flags(ctx, fr, e, recorded, duration)
        # a StagedFile (local store): put compares our digest with the one it computed while writing;
        # any other store reads the staging file and verifies it as it stores it
        source: Any = res.sealed if res.sealed is not None and hasattr(rt.store, "open_staging") else res.staging
        info = rt.store.put(key_for(res.sha256), source, sha256=res.sha256, size=res.size, retain_until=until)
    finally:
        try:
            os.unlink(res.staging)
        except FileNotFoundError:
            pass
    _crash_point("after_put")
    return duration, info


def _probe_flags(fr: FileReceipt, staging: Path, size: int) -> float | None:
    """Zero-byte and probe flags; returns the probed duration (None when unknown)."""
    if size == 0:
        fr.flags.append("zero_byte")
        fr.notes.append("zero-byte file: stored as found (an empty recording)")
        return None
    if fr.media_kind == "unknown":
        return None
    pr = quick_probe(staging, fr.media_kind, os.path.splitext(fr.path)[1])
    if not pr.ok and pr.problem:
        fr.flags.append(pr.problem)
        fr.notes.append(f"{pr.problem}: {pr.detail}; stored byte-for-byte anyway")
    return pr.duration_s


def _upsert_file(
    conn: Any, ctx: _Ctx, fr: FileReceipt, recorded: datetime | None, duration: float | None, until: datetime
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


def _duplicate_flags(conn: Any, ctx: _Ctx, fr: FileReceipt) -> None:
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
