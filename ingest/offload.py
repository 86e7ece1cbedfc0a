"""Offload docked recorders: one pass per byte, crash-safe, verified before a recorder may be wiped.

Per file, in this order (each step is idempotent, so a crash anywhere is repaired by running again):

1. copy into a staging file next to the store while hashing (``ingest.copy``), fsync; with the local
   store the writer is the store's (``store.open_staging``), so the store computed the digest itself;
2. ``store.put(staging, sha256=…, retain_until=…)`` — verified (for a staged file: expected vs the
   digest the store computed while writing it, no second read); a no-op when already stored;
3. per batch of a recorder's stored files (``BATCH_FILES`` / ``BATCH_BYTES``), one catalog transaction:
   upsert each ``files`` row by SHA-256, mark its ``session_files`` row stored, record its ``ingestion``
   audit event, and — when the sequencer lock is free, else right after the commit with everyone who
   queued — sequence the log in that same transaction (``ingest.commit``); if the batch transaction
   fails, each file is retried in its own, so one bad file fails alone;
4. the last batch's transaction also re-checks every entry (store ``head``, rows, indices), decides
   SAFE TO WIPE and records the receipt: one commit for all of it. ``on_stored(file_id)`` is called
   for new originals once their batch is committed.

A crash after 1 leaves an orphan staging file (removed by the next run); after 2 objects without rows
(the next run's put is a no-op and the rows are written); inside 3 or 4 nothing of the transaction
(the same). Nothing is ever half-registered, and no receipt exists without what it claims.

Within a recorder, step 2 of a file runs in the recorder's put thread while step 1 of the next runs here
(one put at a time; a batch is registered only once its puts returned), and the session is opened in that
thread while the first file is copied. The catalog statements live in ``ingest.register``.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.core.timefmt import from_ns, utcnow
from liuhen.ingest import commit, flags, register
from liuhen.ingest import copy as _copy
from liuhen.ingest.errors import CopyCancelled, error_code
from liuhen.ingest.faults import crash_point
from liuhen.ingest.layout import Identity, SourceEntry, discover, kind_of, parse_name, parse_offset, read_identity, scan
from liuhen.ingest.probe import quick_probe
from liuhen.ingest.progress import NullProgress, ProgressSink
from liuhen.ingest.receipts import FAILED, REJECTED, SKIPPED, FileReceipt, Receipt, finalize
from liuhen.ingest.register import InPut, RecorderCtx, StoredFile
from liuhen.runtime import Runtime
from liuhen.storage.base import ObjectInfo, key_for
from liuhen.storage.util import default_until

log = logging.getLogger("liuhen.ingest")
OnStored = register.OnStored

_busy_lock = threading.Lock()
_busy: set[str] = set()


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


BATCH_FILES = 64  # files of one recorder registered in one transaction and sequenced together
BATCH_BYTES = 512 << 20


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
        ctx = RecorderCtx(runtime, receipt, identity, key, actor, on_stored, progress, "sm3" in settings.digests, now)
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
        try:
            commit.finish(ctx)
        except Exception as exc:
            log.error("ingest %s: cannot store the receipt: %s", port, exc)
            receipt.error = f"{error_code(exc)}: cannot store the receipt: {exc}"
            receipt.safe_to_wipe = False
            receipt.status = "incomplete"
            receipt.reasons.insert(0, receipt.error)
        crash_point("after_receipt")
        progress.recorder_finished(key, receipt)
        return receipt
    finally:
        with _busy_lock:
            _busy.discard(key)


def _offload_entries(ctx: RecorderCtx, entries: list[SourceEntry]) -> None:
    """Every entry in order: copied here, put by ``ctx.putter`` while the next is copied, registered per batch."""
    for e in entries:
        fr = _ingest_one(ctx, e)
        ctx.receipt.files.append(fr)
        if not (ctx.in_put and ctx.in_put.fr is fr) and not any(b.fr is fr for b in ctx.batch):
            ctx.progress.file_done(ctx.recorder_key, fr.path, fr.status)
        if len(ctx.batch) >= BATCH_FILES or sum(b.fr.size or 0 for b in ctx.batch) >= BATCH_BYTES:
            commit.flush(ctx)
    _finish_put(ctx)


def _open_session_copying_first(ctx: RecorderCtx, port: Path, entries: list[SourceEntry], identity: Identity | None,
                                id_error: str | None, docked_at: datetime) -> None:
    """Open the session in the put thread while the first file is copied here, from the first moment.

    A copy needs no catalog row — only its registration does, and the put thread opens the session
    before it runs any put. The put thread first looks up whether the first file is a resume (stored
    from this recorder before); if so, the copy is stopped at its next chunk and the file is resumed in
    order. If the session cannot be opened, the staged copy is removed and this raises.
    """
    assert ctx.putter is not None
    first = next((e for e in entries if not e.problem), None)
    stop = threading.Event()

    def look_up_then_open() -> None:
        try:
            if first is None or first.display in register.prior_paths(ctx):
                stop.set()
        except Exception:  # the catalog cannot say whether it is a resume: the session fails below
            stop.set()
        register.open_session(ctx, port, entries, identity, id_error, docked_at)

    opening = ctx.putter.submit(look_up_then_open)
    if first is not None:
        try:
            ctx.prestaged[first.display] = _copy_staged(ctx, first, stop)
        except CopyCancelled:
            pass
        except Exception as exc:  # reported as that file's failure once the session is open
            ctx.prestaged[first.display] = exc
    try:
        opening.result()
    except Exception:
        _discard_prestaged(ctx)
        raise
    if stop.is_set():  # a resume candidate copied before the lookup answered: resumed, not stored again
        _discard_prestaged(ctx)


def _discard_prestaged(ctx: RecorderCtx) -> None:
    for res in ctx.prestaged.values():
        if isinstance(res, _copy.CopyResult):
            res.staging.unlink(missing_ok=True)
    ctx.prestaged.clear()


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


def _ingest_one(ctx: RecorderCtx, e: SourceEntry) -> FileReceipt:
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
        register.mark_failed(ctx, fr)
        return fr
    try:
        if register.resume(ctx, e, fr):
            ctx.progress.advance(ctx.recorder_key, e.size)
            return fr
        _store_new(ctx, e, fr, recorded, settings)
    except Exception as exc:
        _file_failed(ctx, fr, exc)
    return fr


def _file_failed(ctx: RecorderCtx, fr: FileReceipt, exc: Exception) -> None:
    fr.status = FAILED
    fr.error = f"{error_code(exc)}: {exc}"
    log.warning("ingest %s/%s failed: %s", ctx.receipt.port, fr.path, fr.error)
    register.mark_failed(ctx, fr)


def timezone_default() -> Any:
    return parse_offset(None)


def _time_flags(
    ctx: RecorderCtx, fr: FileReceipt, e: SourceEntry, recorded: datetime | None, duration: float | None
) -> None:
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


def _store_new(ctx: RecorderCtx, e: SourceEntry, fr: FileReceipt, recorded: datetime | None, settings: Any) -> None:
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
    ctx.in_put = InPut(e, fr, recorded, until, ctx.putter.submit(_probe_and_put, ctx, e, fr, res, recorded, until))


def _finish_put(ctx: RecorderCtx) -> None:
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


def _stored(ctx: RecorderCtx, e: SourceEntry, fr: FileReceipt, recorded: datetime | None, until: datetime,
            done: tuple[float | None, ObjectInfo]) -> None:
    duration, info = done
    fr.storage_key, fr.storage_version = info.key or key_for(fr.sha256 or ""), info.version
    ctx.batch.append(StoredFile(e, fr, recorded, duration, info.retain_until or until))


def _copy_staged(ctx: RecorderCtx, e: SourceEntry, stop: threading.Event | None = None) -> _copy.CopyResult:
    """Stage the bytes while hashing (fsynced); ``stop`` set: ``CopyCancelled`` at the next chunk."""
    return _copy.copy_and_hash(
        e.raw,
        ctx.runtime.settings.staging_dir,
        sm3=ctx.sm3,
        on_bytes=lambda n: ctx.progress.advance(ctx.recorder_key, n),
        open_staging=getattr(ctx.runtime.store, "open_staging", None),  # the local store hashes as it writes
        stop=stop,
    )


def _probe_and_put(
    ctx: RecorderCtx, e: SourceEntry, fr: FileReceipt, res: _copy.CopyResult, recorded: datetime | None, until: datetime
) -> tuple[float | None, ObjectInfo]:
    """Probe and flag a staged file and put it in the store (verified); the staging name is removed."""
    rt = ctx.runtime
    try:
        crash_point("after_copy")
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
    crash_point("after_put")
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


