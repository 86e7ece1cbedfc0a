"""``process_file``: probe → proxy (remux or transcode) → thumbnails/contact sheet → fingerprint.

A plain typed function (the dramatiq actors only wrap it). Guarantees:
- The original is only read: streamed from the store into a private work directory and its SHA-256
  re-checked before anything is derived from it.
- Media problems (undecodable, truncated, over the safety limits, ffmpeg failure/timeout) end as
  ``files.media_status`` = ``corrupt``/``unsupported`` with ``media_error``; they never raise.
  Infrastructure problems (catalog, store) raise, so the message is retried with backoff.
- Idempotent: one processor per file at a time (PostgreSQL advisory lock held on its own connection,
  released even if the worker is SIGKILLed); finished files are skipped; steps whose derivatives
  already exist are not re-run; rows are unique per (file, kind, seq).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from liuhen.core.codec import sha256_file
from liuhen.runtime import Runtime
from liuhen.transcoder import records, tool
from liuhen.transcoder.errors import MediaError, OriginalMismatch, ProbeFailed, TranscodeFileNotFound, Truncated
from liuhen.transcoder.fingerprint import ALGO, fingerprint
from liuhen.transcoder.probe import probe
from liuhen.transcoder.proxy import plan_partial, plan_proxy, plan_thumbnails
from liuhen.transcoder.settings import TranscoderSettings, transcoder_settings

log = logging.getLogger(__name__)
FILE_LOCK_CLASS = 0x5443  # "TC"
ACTOR = "system:transcoder"


@dataclass
class ProcessResult:
    file_id: int
    sha256: str
    status: str  # ok | corrupt | unsupported | skipped
    media_kind: str | None = None
    error: str | None = None
    derivatives: list[records.Derived] = field(default_factory=list)
    fingerprint_seconds: int = 0
    seconds: float = 0.0

    @property
    def created(self) -> int:
        return sum(1 for d in self.derivatives if d.created)


@contextmanager
def file_lock(runtime: Runtime, file_id: int) -> Iterator[None]:
    """Session advisory lock on its own autocommit connection: dies with the process."""
    with psycopg.connect(runtime.catalog.url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (FILE_LOCK_CLASS, file_id & 0x7FFFFFFF))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (FILE_LOCK_CLASS, file_id & 0x7FFFFFFF))


def fetch_original(runtime: Runtime, row: dict[str, Any], dest: Path) -> Path:
    """Stream the original into ``dest`` while hashing; refuse bytes that do not match the digest."""
    h = hashlib.sha256()
    with dest.open("wb") as f:
        for chunk in runtime.store.get(row["storage_key"]):
            h.update(chunk)
            f.write(chunk)
    if h.hexdigest() != row["sha256"]:
        raise OriginalMismatch(
            f"file {row['id']}: store returned bytes with sha256 {h.hexdigest()}, catalog says {row['sha256']}"
        )
    return dest


def derived_rel_dir(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def process_file(
    runtime: Runtime, file_id: int, *, force: bool = False, message_id: str | None = None, actor: str = ACTOR
) -> ProcessResult:
    """Make every derivative of ``file_id``; see the module docstring for the guarantees."""
    t0 = time.perf_counter()
    with file_lock(runtime, file_id):
        row = runtime.catalog.one("SELECT * FROM files WHERE id = %s", (file_id,))
        if row is None:
            raise TranscodeFileNotFound(f"no file with id {file_id}")
        if row["media_status"] != "pending" and not force:
            return ProcessResult(
                file_id,
                row["sha256"],
                "skipped",
                row["media_kind"],
                row["media_error"],
                records.existing(runtime.catalog, file_id),
            )
        job = records.start_job(runtime.catalog, file_id, message_id)
        try:
            result = _process_locked(runtime, row, actor)
        except BaseException as exc:
            records.finish_job(runtime.catalog, job, "error", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        records.finish_job(runtime.catalog, job, result.status, result.error)
    result.seconds = time.perf_counter() - t0
    return result


def _process_locked(runtime: Runtime, row: dict[str, Any], actor: str) -> ProcessResult:

    s, ts = runtime.settings, transcoder_settings()
    file_id, sha = int(row["id"]), str(row["sha256"])
    out_dir = s.derived_dir / derived_rel_dir(sha)
    work = s.derived_dir / ".work" / uuid.uuid4().hex
    work.mkdir(parents=True, exist_ok=True)
    try:
        ext = (row.get("ext") or Path(row.get("original_name") or "").suffix or "").lstrip(".").lower()
        src = fetch_original(runtime, row, work / (f"original.{ext}" if ext else "original"))
        try:
            info = probe(src, ts)
        except Truncated as exc:
            return _partial(runtime, row, exc, src, work, out_dir, actor, ts)
        except MediaError as exc:
            return _flag(runtime, row, exc)
        except Exception as exc:  # a demuxer/decoder misbehaving on hostile input is a media problem
            return _flag(runtime, row, ProbeFailed(f"probe crashed: {type(exc).__name__}: {exc}"))
        result = ProcessResult(file_id, sha, "ok", info.kind)
        have = {(d.kind, d.seq): d for d in records.existing(runtime.catalog, file_id)}
        try:
            steps = [plan_proxy(info, s, ts), *plan_thumbnails(info, s, ts)]
            result.derivatives += _run_steps(runtime, row, steps, src, work, out_dir, have, actor, ts)
            if ts.fingerprint and info.kind == "video":
                result.fingerprint_seconds = _fingerprint(runtime, row, src, actor)
        except MediaError as exc:
            return _flag(runtime, row, exc, info.to_json(), info.kind)
        records.set_status(
            runtime.catalog, file_id, "ok", info=info.to_json(), media_kind=info.kind, duration_s=info.duration_s
        )
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _flag(
    runtime: Runtime, row: dict[str, Any], exc: MediaError, info: dict[str, Any] | None = None, kind: str | None = None
) -> ProcessResult:
    status = exc.media_status
    log.warning("file %s (%s) flagged %s: %s", row["id"], row["sha256"][:12], status, exc)
    records.set_status(runtime.catalog, int(row["id"]), status, info=info, error=str(exc), media_kind=kind)
    return ProcessResult(int(row["id"]), str(row["sha256"]), status, kind, str(exc))


def _partial(
    runtime: Runtime,
    row: dict[str, Any],
    exc: Any,
    src: Path,
    work: Path,
    out_dir: Path,
    actor: str,
    ts: TranscoderSettings,
) -> ProcessResult:
    """A truncated recording stays flagged ``corrupt`` (same message), but the part that is present
    and decodable (the probe decoded its first frame) gets derivatives labelled ``partial``.

    A failure making them is logged and leaves the file flagged as it is; it never raises.
    """

    info = exc.info
    made: list[records.Derived] = []
    if info.packets and info.decodable_s:
        have = {(d.kind, d.seq): d for d in records.existing(runtime.catalog, int(row["id"]))}
        try:
            steps = plan_partial(info, runtime.settings, ts)
            made = _run_steps(runtime, row, steps, src, work, out_dir, have, actor, ts)
        except MediaError as err:
            log.warning("file %s: truncated, and no partial derivatives either: %s", row["id"], err)
    result = _flag(runtime, row, exc, info.to_json(), info.kind)
    result.derivatives = made
    return result


def _run_steps(
    runtime: Runtime,
    row: dict[str, Any],
    steps: list[Any],
    src: Path,
    work: Path,
    out_dir: Path,
    have: dict[tuple[str, int], records.Derived],
    actor: str,
    ts: TranscoderSettings,
) -> list[records.Derived]:
    s = runtime.settings
    out: list[records.Derived] = []
    for step in steps:
        done = [d for (k, _), d in have.items() if k == step.kind]
        if done and all((s.derived_dir / d.path).exists() for d in done):
            out += done  # a previous delivery finished this step
            continue
        dst = work / step.kind
        if step.multi:
            dst.mkdir()
        target = dst if step.multi else dst.with_suffix(Path(step.outputs[0]).suffix)
        ran = tool.run(
            tool.concrete(step.argv, src, target),
            timeout_s=s.ffmpeg_timeout_s,
            rlimit_as_mb=ts.rlimit_as_mb,
            rlimit_cpu_s=ts.rlimit_cpu_s,
        )
        files = sorted(dst.iterdir()) if step.multi else [target]
        if not files or not all(f.exists() and f.stat().st_size > 0 for f in files):
            raise MediaError(f"ffmpeg produced no {step.kind} output (no decodable frames?)")
        out_dir.mkdir(parents=True, exist_ok=True)
        for seq, f in enumerate(files):
            name = f.name if step.multi else step.outputs[0]
            digest = sha256_file(f)
            os.replace(f, out_dir / name)
            rel = f"{derived_rel_dir(row['sha256'])}/{name}"
            recipe = {
                "file_id": int(row["id"]),
                "tool": tool.versions(),
                "argv": tool.record_argv(step.argv),
                "mode": step.mode,
                "parameters": step.params,
                "output": name,
                "input": {"sha256": row["sha256"], "size": row["size"]},
                "seconds": round(ran.seconds, 3),
            }
            d = records.Derived(step.kind, seq, rel, digest, (out_dir / name).stat().st_size, step.mime)
            out.append(records.add_derivative(runtime.catalog, d, row["sha256"], recipe, actor))
    return out


def _fingerprint(runtime: Runtime, row: dict[str, Any], src: Path, actor: str) -> int:
    import av


    have = runtime.catalog.one("SELECT seconds FROM fingerprint_sets WHERE file_id = %s", (row["id"],))
    if have is not None:
        return int(have["seconds"])
    try:
        fp = fingerprint(src)
    except av.FFmpegError as exc:
        raise MediaError(f"decoder error while fingerprinting: {exc.strerror or exc}") from exc
    recipe = {
        "tool": tool.versions(),
        "parameters": {"algo": ALGO, "size": 32, "dct_block": 8, "per": "second", "mode": fp.mode},
        "input": {"sha256": row["sha256"], "size": row["size"]},
    }
    records.save_fingerprint(runtime.catalog, int(row["id"]), row["sha256"], fp, recipe, actor)
    return len(fp)
