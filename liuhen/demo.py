"""``liuhen demo``: the whole pipeline on the configured (by default embedded) components.

dock (simulated) → ingest → transcode (worker threads, or dramatiq worker processes with a broker)
→ a sample enforcement case with stages, activities and linked clips → supervised export → verify.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from liuhen.cases import access
from liuhen.cases import service as cases
from liuhen.cases.principal import Principal
from liuhen.core.config import Settings, get_settings
from liuhen.core.verifier import verify_bag
from liuhen.export.service import run_export
from liuhen.ingest.offload import ingest_path
from liuhen.integrity import log as auditlog
from liuhen.runtime import Runtime
from liuhen.simulate import simulate_dock
from liuhen.storage.base import key_for
from liuhen.storage.errors import ObjectNotFound
from liuhen.transcoder import jobs as tsvc
from liuhen.transcoder.broker import setup_broker
from liuhen.transcoder.errors import WorkersExited
from liuhen.transcoder.workers import InProcessWorkers
from liuhen.wiring import build_runtime

console = Console(stderr=True)


def _spawn_worker_processes(settings: Settings, processes: int = 2) -> list[subprocess.Popen[bytes]]:
    """Separate ``dramatiq`` worker processes on the configured broker (their output: ``workers.log``)."""
    env = dict(os.environ)
    env["LIUHEN_DATA_DIR"] = str(settings.root)
    if settings.database_url:
        env["LIUHEN_DATABASE_URL"] = settings.database_url
    if settings.broker_url:
        env["LIUHEN_BROKER_URL"] = settings.broker_url
    procs = []
    with open(settings.root / "workers.log", "ab") as out:
        for _ in range(processes):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "dramatiq", "liuhen.worker", "-p", "1", "-t", "2"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def _wait_transcoded(
    rt: Runtime, file_ids: list[int], timeout: float, procs: list[subprocess.Popen[bytes]] | None = None
) -> None:
    """Wait until no file is pending; fail at once (not at the timeout) when every worker process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = rt.catalog.one(
            "SELECT count(*) AS n FROM files WHERE id = ANY(%s) AND media_status = 'pending'", (file_ids,)
        )
        if row and row["n"] == 0:
            return
        if procs and all(p.poll() is not None for p in procs):
            codes = ", ".join(str(p.returncode) for p in procs)
            raise WorkersExited(
                f"every transcoder worker process exited (codes {codes}) with {row['n'] if row else '?'} files "
                f"still pending; see {rt.settings.root / 'workers.log'}"
            )
        time.sleep(0.5)
    raise TimeoutError(f"transcoding did not finish within {timeout:.0f} s")


def run_demo(
    *,
    recorders: int = 3,
    minutes: float = 0.25,
    small: bool = False,
    settings: Settings | None = None,
    table_out: Console | None = None,
) -> dict[str, Any]:
    """Run the pipeline; progress goes to stderr, the summary table to ``table_out`` (stdout by default)."""

    settings = settings or get_settings()
    actor = settings.actor_name()
    rt = build_runtime(settings)
    procs: list[subprocess.Popen[bytes]] = []
    workers = None
    try:
        # 1. a simulated dock
        dock = settings.root / ("demo-dock-small" if small else "demo-dock") / f"r{recorders}-m{minutes:g}"
        if not dock.exists():
            console.print(f"[bold]1/6[/] simulating a dock with {recorders} recorders in {dock}")
            kw: dict[str, Any] = (
                {"width": 320, "height": 240, "bitrate": "500k", "clip_seconds": 4.0} if small else {}
            )
            tmp = dock.with_name(dock.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)  # a run interrupted while simulating left a partial dock
            simulate_dock(tmp, recorders=recorders, minutes=minutes, **kw)
            tmp.rename(dock)
        else:
            console.print(f"[bold]1/6[/] reusing the simulated dock in {dock}")

        # 2. workers first, so transcoding starts as soon as a file is stored

        setup_broker(settings)
        if settings.broker_url:
            procs = _spawn_worker_processes(settings)
        else:

            workers = InProcessWorkers(rt, threads=settings.worker_threads)
            workers.start()

        console.print("[bold]2/6[/] ingesting (one pass: copy + SHA-256 → write-once store → audit log)")

        t0 = time.monotonic()
        receipts = ingest_path(rt, dock, actor=actor, on_stored=tsvc.enqueue)
        ingest_s = time.monotonic() - t0

        file_ids = sorted({f.file_id for r in receipts for f in r.files if f.file_id is not None})
        console.print(f"[bold]3/6[/] transcoding {len(file_ids)} files (proxies, thumbnails, fingerprints)")
        tsvc.enqueue_pending(rt)
        _wait_transcoded(rt, file_ids, timeout=900, procs=procs)
        if workers is not None:
            workers.join_idle(timeout=600)

        console.print("[bold]4/6[/] creating a sample enforcement case and linking clips to its stages")
        case_no, case_report = _sample_case(rt, actor, file_ids)

        console.print("[bold]5/6[/] exporting the case as a verifiable bag (supervised) and verifying it")

        clerk = Principal(actor, "clerk", unit_code="110101000000")
        supervisor = Principal("supervisor:demo", "supervisor", unit_code="110101000000")
        req = access.create_request(
            rt, clerk, kind="export", case_no=case_no, purpose="行政复议 evidence submission (demo)"
        )
        access.approve(rt, int(req["id"]), supervisor, note="demo approval")
        _path, result = run_export(rt, case_no, clerk, request_id=int(req["id"]))
        report = verify_bag(str(result.path))

        console.print("[bold]6/6[/] summary")
        summary = _summary(rt, receipts, ingest_s, case_no, case_report, result, report)
        _print_summary(summary, table_out or Console())
        return summary
    finally:
        if workers is not None:
            workers.stop()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        rt.close()


def _sample_case(rt: Runtime, actor: str, file_ids: list[int]) -> tuple[str, dict[str, Any]]:

    files = rt.catalog.all(
        "SELECT id, sha256, media_kind, recorded_at, duration_s, media_status FROM files "
        "WHERE id = ANY(%s) ORDER BY recorded_at NULLS LAST, id",
        (file_ids,),
    )
    videos = [f for f in files if f["media_kind"] == "video" and f["media_status"] == "ok"]
    others = [f for f in files if f not in videos and f["media_status"] == "ok"]
    stamp = time.strftime("%Y%m%d%H%M%S")
    case_no = f"京朝城管罚字〔{stamp[:4]}〕第{stamp[4:]}号"
    cases.create_case(
        rt, case_no=case_no, agency="北京市朝阳区城市管理综合行政执法局", subject="某餐饮有限公司",
        case_type="penalty", major=True, actor=actor, unit_code="110101000000",
    )
    first = videos[0]["recorded_at"] if videos and videos[0]["recorded_at"] else None
    if first is None:
        raise RuntimeError("no decodable video was ingested; the demo cannot build its case")
    span_end = max(
        (f["recorded_at"] + timedelta(seconds=f["duration_s"] or 0) for f in videos if f["recorded_at"]),
        default=first,
    )
    cases.advance_stage(rt, case_no, "investigation", actor=actor)
    act = cases.add_activity(
        rt, case_no, stage="investigation", kind="onsite_inspection", starts_at=first, ends_at=span_end,
        place="朝阳区某路1号", officers=["110101", "110102"], actor=actor,
    )
    for f in videos:
        cases.link_clip(
            rt, case_no, f["sha256"], stage="investigation", activity_id=int(act["id"]), proves="现场检查发现占道经营",
            actor=actor,
        )
    for f in others:
        cases.link_clip(rt, case_no, f["sha256"], stage="investigation", proves="现场取证", actor=actor)
    cases.advance_stage(rt, case_no, "review", actor=actor)

    legal = Principal("legal:赵敏", "legal_reviewer", unit_code="110101000000")
    cases.record_legal_review(rt, case_no, reviewer=legal, opinion="事实清楚，证据充分", approved=True)
    cases.advance_stage(rt, case_no, "decision", actor=actor)
    return case_no, cases.completeness(rt, case_no)


def _summary(
    rt: Runtime, receipts: list[Any], ingest_s: float, case_no: str, completeness: dict[str, Any],
    export: Any, report: Any,
) -> dict[str, Any]:
    files = [f for r in receipts for f in r.files]
    nbytes = sum(f.size or 0 for f in files)
    copied = sum(f.size or 0 for f in files if not f.resumed)
    flags: dict[str, int] = {}
    for f in files:
        for fl in f.flags:
            flags[fl] = flags.get(fl, 0) + 1
    for r in receipts:  # recorder-level flags (clock drift at docking, missing identity)
        for fl in r.flags:
            flags[f"recorder:{fl}"] = flags.get(f"recorder:{fl}", 0) + 1
    distinct = {f.sha256 for f in files if f.sha256}
    stored_row = rt.catalog.one("SELECT count(*) AS n FROM files WHERE sha256 = ANY(%s)", (list(distinct),))
    stored = int(stored_row["n"]) if stored_row else 0
    in_store = sum(1 for d in distinct if _stored_with_digest(rt, d))
    derivs = rt.catalog.one(
        "SELECT count(*) AS n FROM derivatives d JOIN files f ON f.id = d.file_id WHERE f.sha256 = ANY(%s)",
        (list(distinct),),
    )

    ok = bool(report.ok) and all(r.safe_to_wipe for r in receipts) and stored == in_store == len(distinct)
    return {
        "ok": ok,
        "recorders": len(receipts),
        "safe_to_wipe": sum(1 for r in receipts if r.safe_to_wipe),
        "files": len(files),
        "distinct_contents": len(distinct),
        "catalog_rows": stored,
        "store_objects": in_store,
        "bytes": nbytes,
        "ingest_seconds": round(ingest_s, 2),
        "bytes_copied": copied,
        "resumed_files": sum(1 for f in files if f.resumed),
        "mb_per_s": round(copied / 1e6 / ingest_s, 1) if ingest_s > 0 and copied else None,
        "flags": flags,
        "derivatives": derivs["n"] if derivs else 0,
        "audit_log_size": auditlog.size(rt.catalog),
        "case": case_no,
        "completeness": {
            "complete": completeness.get("complete"),
            "problems": len(completeness.get("problems", [])),
        },
        "export": str(export.path),
        "export_files": export.files,
        "verdict": "VERIFIED" if report.ok else "FAILED",
        "verify_failures": [str(x) for x in getattr(report, "failures", [])][:10],
    }


def _stored_with_digest(rt: Runtime, sha256: str) -> bool:
    """The store holds the object and reports the same SHA-256 (not just a name)."""

    try:
        return rt.store.head(key_for(sha256)).sha256 == sha256
    except ObjectNotFound:
        return False


def _print_summary(s: dict[str, Any], out: Console) -> None:
    t = Table(title="Liuhen demo summary", show_header=False)
    t.add_column(no_wrap=True)
    t.add_column(overflow="fold")  # long values (the export path) wrap; they are never cut off
    t.add_row("recorders (safe to wipe)", f"{s['recorders']} ({s['safe_to_wipe']} safe to wipe)")
    t.add_row("files ingested", f"{s['files']} ({s['distinct_contents']} distinct contents)")
    t.add_row("catalog rows / store objects", f"{s['catalog_rows']} / {s['store_objects']}")
    rate = f"{s['mb_per_s']} MB/s" if s["mb_per_s"] else "nothing new to copy"
    t.add_row(
        "bytes",
        f"{s['bytes'] / 1e6:.1f} MB; copied {s['bytes_copied'] / 1e6:.1f} MB in {s['ingest_seconds']} s ({rate})",
    )
    if s["resumed_files"]:
        t.add_row("already stored (resumed)", str(s["resumed_files"]))
    t.add_row("flags raised", ", ".join(f"{k}×{v}" for k, v in sorted(s["flags"].items())) or "none")
    t.add_row("derivatives", str(s["derivatives"]))
    t.add_row("audit log size", str(s["audit_log_size"]))
    t.add_row("case", s["case"])
    c = s["completeness"]
    t.add_row("case completeness", "complete" if c["complete"] else f"{c['problems']} problem(s) reported")
    t.add_row("export", s["export"])
    t.add_row("verdict", s["verdict"])
    out.print(t)
    # the one thing a user needs next, on a line of its own so it can be copied whole
    out.print(f"export bag: {s['export']}", soft_wrap=True, highlight=False, markup=False)
    if s["verify_failures"]:
        for f in s["verify_failures"]:
            console.print(f"[red]verify: {f}[/]")
