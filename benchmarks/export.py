"""Benchmark: verified export throughput, and bag verification vs ``sha256sum -c`` and ``bagit.py --validate``.

    python -m benchmarks.export [--quick]

Builds a case from real ffmpeg-made footage (H.264 clips, a photo, a WAV) stored in the local
write-once store, with ingestion events in the audit log, links to two stages, derived proxies and
thumbnails; exports it (``liuhen.export.service.export_case``) several times; then, on the same bag in
the same run, times:

* ``python3 verify.py BAG`` (the stdlib verifier shipped in the bag: manifests, tag manifest,
  Ed25519 checkpoint signature, every tlog-proof, consistency, ingestion linkage),
* ``sha256sum -c manifest-sha256.txt`` + ``sha256sum -c tagmanifest-sha256.txt`` (coreutils),
* ``bagit.py --validate BAG`` (Library of Congress bagit-python).

Reports medians and ratios. Last line: one JSON object with ``verify_vs_sha256sum`` and
``verify_vs_bagit`` (wall-time ratios, < 1 means verify.py is faster), plus the throughputs.
The footage and database live in a temporary directory; PostgreSQL is ``LIUHEN_DATABASE_URL`` or
127.0.0.1:5432 (a throwaway database is created and dropped) or the embedded pgserver.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from liuhen.api.auth import Principal
from liuhen.cases import service as cases
from liuhen.catalog.db import migrate
from liuhen.core import media as m
from liuhen.core.config import Settings
from liuhen.embedded import start_postgres, stop_postgres
from liuhen.export.service import export_case
from liuhen.integrity import checkpoint, log
from liuhen.integrity.events import Event
from liuhen.storage.base import key_for
from liuhen.wiring import build_runtime

# ------------------------------------------------------------------ a sample case (shared with tests)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for b in iter(lambda: fh.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def ingest_file(rt: Any, path: Path, *, device: str, officer: str, recorded_at: datetime,
                kind: str = "video", duration_s: float | None = None, actor: str = "ingest:test") -> dict[str, Any]:
    """Store ``path`` and insert its file row and ingestion event, as ``ingest`` does (one transaction)."""
    sha = _sha256(path)
    info = rt.store.put(key_for(sha), path, sha256=sha)
    sm3 = None
    if "sm3" in rt.settings.digests:
        sm3 = hashlib.new("sm3", path.read_bytes()).hexdigest()
    with rt.catalog.tx() as conn:
        row = conn.execute(
            "INSERT INTO files (sha256, sm3, size, media_kind, ext, original_name, device_serial, officer_no, "
            "unit_code, recorded_at, duration_s, storage_key, storage_version, retention_until, media_status) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'ok') RETURNING *",
            (sha, sm3, path.stat().st_size, kind, path.suffix.lower(), path.name, device, officer, "330100",
             recorded_at, duration_s, info.key, info.version, info.retain_until),
        ).fetchone()
        ev = log.record(conn, Event("ingestion", actor, subject={"sha256": sha}, data={
            "size": path.stat().st_size, "sm3": sm3, "storage_key": info.key, "device_serial": device,
            "officer_no": officer, "source_path": f"/DCIM/{path.name}", "recorded_at": recorded_at.isoformat()}))
        conn.execute("UPDATE files SET ingest_event_id = %s WHERE id = %s", (ev, row["id"]))
    return dict(row)


def add_derivative(rt: Any, f: dict[str, Any], kind: str, src: Path, mime: str, argv: list[str]) -> None:
    """Copy ``src`` into the derived dir as a derivative of ``f`` with its row and derivation event."""
    rel = f"{f['sha256'][:2]}/{f['sha256']}/{kind}{src.suffix}"
    dst = Path(rt.settings.derived_dir) / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    sha = _sha256(dst)
    recipe = {"tool": {"ffmpeg": "test", "pyav": "test"}, "argv": argv, "input": {"sha256": f["sha256"]},
              "derivative": {"kind": kind, "sha256": sha, "path": rel}}
    with rt.catalog.tx() as conn:
        ev = log.record(conn, Event("derivation", "transcoder:test", subject={"sha256": f["sha256"]}, data=recipe))
        conn.execute(
            "INSERT INTO derivatives (file_id, kind, seq, sha256, size, path, mime, recipe, event_id) "
            "VALUES (%s, %s, 0, %s, %s, %s, %s, %s, %s)",
            (f["id"], kind, sha, dst.stat().st_size, rel, mime, json.dumps(recipe), ev),
        )


def build_sample_case(rt: Any, media: dict[str, Path], case_no: str = "浙杭综执罚〔2026〕1号") -> dict[str, Any]:
    """A penalty case with clips linked in 'investigation' and 'service', derivatives, access events.

    Returns ``{"case_no", "files": {name: file row}, "t0": first recording time}``.
    """

    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with rt.catalog.tx() as conn:
        conn.execute("INSERT INTO recorders (device_serial, officer_no, officer_name, unit_code, firmware) "
                     "VALUES ('DSJ-A1-0001', '330001', '张三', '330100', 'v2.1') ON CONFLICT DO NOTHING")
    files: dict[str, dict[str, Any]] = {}
    plan = [("h264_mp4", "video", 4.0, 0), ("h264_mp4_b", "video", 3.0, 30), ("jpg", "photo", None, 60),
            ("wav", "audio", 2.0, 24 * 60)]
    for name, kind, dur, minutes in plan:
        if name in media:
            files[name] = ingest_file(rt, Path(media[name]), device="DSJ-A1-0001", officer="330001",
                                      recorded_at=t0 + timedelta(minutes=minutes), kind=kind, duration_s=dur)
    checkpoint.publish(rt.catalog, rt.settings)  # an earlier published checkpoint: consistency has a base
    actor = "officer:330001"
    cases.create_case(rt, case_no=case_no, agency="杭州市综合行政执法局", subject="占道经营",
                      case_type="penalty", actor=actor, unit_code="330100")
    act = cases.add_activity(rt, case_no, stage="filing", kind="onsite_inspection", starts_at=t0,
                             ends_at=t0 + timedelta(hours=1), place="文三路 100 号", officers=["330001"], actor=actor)
    cases.advance_stage(rt, case_no, "investigation", actor)
    inv = cases.add_activity(rt, case_no, stage="investigation", kind="evidence_collection", starts_at=t0,
                             ends_at=t0 + timedelta(hours=2), place="文三路 100 号", officers=["330001"], actor=actor)
    del act
    cases.link_clip(rt, case_no, files["h264_mp4"]["sha256"], stage="investigation", activity_id=inv["id"],
                    proves="当事人在人行道摆摊经营的事实", actor=actor)
    cases.link_clip(rt, case_no, files["h264_mp4_b"]["sha256"], stage="investigation", activity_id=inv["id"],
                    t_start_s=0.5, t_end_s=2.5, proves="执法人员出示证件、告知权利", actor=actor)
    if "jpg" in files:
        cases.link_clip(rt, case_no, files["jpg"]["sha256"], stage="investigation", proves="现场摊位位置", actor=actor)
    if "wav" in files:
        for st in ("review", "decision", "service"):
            _advance(rt, cases, case_no, st, actor)
        cases.link_clip(rt, case_no, files["wav"]["sha256"], stage="service", proves="处罚决定书留置送达过程",
                        actor=actor)
    for name in ("h264_mp4", "h264_mp4_b"):
        f = files[name]
        add_derivative(rt, f, "proxy", Path(media[name]), "video/mp4",
                       ["ffmpeg", "-i", "{input}", "-c", "copy", "-movflags", "+faststart", "{output}"])
        if "jpg" in media:
            add_derivative(rt, f, "thumbnail", Path(media["jpg"]), "image/jpeg",
                           ["ffmpeg", "-ss", "0", "-i", "{input}", "-frames:v", "1", "{output}"])
    log.append(rt.catalog, Event("access.view", "reviewer:li", subject={"case": case_no,
                                 "sha256": files["h264_mp4"]["sha256"]}, data={"purpose": "审查"}))
    log.append(rt.catalog, Event("access.view", "other:wang", subject={"case": "OTHER-CASE",
                                 "sha256": files["h264_mp4"]["sha256"]}, data={"purpose": "another case"}))
    return {"case_no": case_no, "files": files, "t0": t0}


def _advance(rt: Any, cases: Any, case_no: str, stage: str, actor: str) -> None:
    if stage == "decision":
        import inspect

        reviewer: Any = "legal:zhao"
        if "Principal" in str(inspect.signature(cases.record_legal_review).parameters["reviewer"].annotation):

            reviewer = Principal("legal:zhao", "legal_reviewer")
        cases.record_legal_review(rt, case_no, reviewer=reviewer, opinion="同意", approved=True)
    cases.advance_stage(rt, case_no, stage, actor)


# ------------------------------------------------------------------ the benchmark


def _median_time(fn: Any, runs: int) -> float:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def _run(args: list[str], cwd: Path | None = None) -> None:
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({r.returncode}): {r.stdout[-500:]} {r.stderr[-500:]}")


def _database(tmp: Path) -> tuple[str, Any]:
    """A throwaway database URL and a cleanup function."""
    import os

    import psycopg


    base = os.environ.get("LIUHEN_DATABASE_URL")
    cands = [base] if base else ["postgresql://postgres@127.0.0.1:5432/postgres",
                                 "postgresql://root@127.0.0.1:5432/postgres"]
    for url in cands:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
                name = f"liuhen_bench_export_{uuid.uuid4().hex[:8]}"
                conn.execute(f'CREATE DATABASE "{name}"')
            info = psycopg.conninfo.conninfo_to_dict(url)
            info["dbname"] = name
            db = psycopg.conninfo.make_conninfo(**{k: v for k, v in info.items() if v is not None})  # type: ignore[arg-type]
            with psycopg.connect(db) as conn:
                migrate(conn)

            def drop(url: str = url, name: str = name) -> None:
                with psycopg.connect(url, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            return db, drop
        except psycopg.Error:
            continue

    return start_postgres(tmp / "pgdata"), lambda: stop_postgres()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller footage, fewer runs (< 60 s)")
    args = ap.parse_args(argv)

    runs = 3 if args.quick else 5
    secs, w, h, rate = (8, 640, 360, "2M") if args.quick else (30, 1280, 720, "8M")
    tmp = Path(tempfile.mkdtemp(prefix="liuhen-bench-export-"))
    drop = None
    try:
        md = tmp / "media"
        md.mkdir()
        media = {
            "h264_mp4": m.make_video(md / "clip_a.mp4", seconds=secs, width=w, height=h, bitrate=rate, seed=1),
            "h264_mp4_b": m.make_video(md / "clip_b.mp4", seconds=secs, width=w, height=h, bitrate=rate, seed=2),
            "jpg": m.make_jpg(md / "photo.jpg", width=1280, height=720),
            "wav": m.make_wav(md / "note.wav", seconds=secs),
        }
        url, drop = _database(tmp)
        rt = build_runtime(Settings(data_dir=tmp / "data", database_url=url, store="local"))
        try:
            case = build_sample_case(rt, media)
            bags: list[Path] = []

            def do_export() -> None:
                out = tmp / f"bag{len(bags)}"
                export_case(rt, case["case_no"], out, actor="bench")
                bags.append(out)

            t_export = _median_time(do_export, runs)
        finally:
            rt.close()
        bag = bags[-1]
        payload = sum(p.stat().st_size for p in (bag / "data").rglob("*") if p.is_file())
        nfiles = sum(1 for p in (bag / "data").rglob("*") if p.is_file())
        # Warm the page cache equally for all three: each reads the same bytes.
        _run([sys.executable, "verify.py", "."], cwd=bag)
        t_verify = _median_time(lambda: _run([sys.executable, "verify.py", "."], cwd=bag), runs)

        def sha256sum() -> None:
            _run(["sha256sum", "--quiet", "-c", "tagmanifest-sha256.txt"], cwd=bag)
            _run(["sha256sum", "--quiet", "-c", "manifest-sha256.txt"], cwd=bag)

        t_sha = _median_time(sha256sum, runs)
        bagit_py = shutil.which("bagit.py") or str(Path(sys.executable).with_name("bagit.py"))
        t_bagit = _median_time(lambda: _run([sys.executable, bagit_py, "--validate", str(bag)]), runs)
    finally:
        if drop:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)
    mb = payload / 1e6
    rows = [
        ("export_case (bag + proofs + event)", t_export),
        ("python3 verify.py (full custody check)", t_verify),
        ("sha256sum -c (tag + payload manifests)", t_sha),
        ("bagit.py --validate", t_bagit),
    ]
    print(f"bag: {nfiles} payload files, {mb:.1f} MB; median of {runs} runs")
    print(f"{'step':42s} {'seconds':>8s} {'MB/s':>8s}")
    for name, t in rows:
        print(f"{name:42s} {t:8.3f} {mb / t:8.1f}")
    print(f"verify.py / sha256sum: {t_verify / t_sha:.2f}x time;  verify.py / bagit.py: {t_verify / t_bagit:.2f}x time")
    print(json.dumps({
        "payload_mb": round(mb, 2), "payload_files": nfiles, "runs": runs,
        "export_mb_per_s": round(mb / t_export, 1), "verify_mb_per_s": round(mb / t_verify, 1),
        "sha256sum_mb_per_s": round(mb / t_sha, 1), "bagit_mb_per_s": round(mb / t_bagit, 1),
        "verify_vs_sha256sum": round(t_verify / t_sha, 3), "verify_vs_bagit": round(t_verify / t_bagit, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
