"""Ingest benchmark: ``liuhen ingest`` vs ``cp -r`` + ``sync`` vs ``cp -r`` + ``sync`` + ``sha256sum``.

    python -m benchmarks.ingest [--quick] [--url postgresql://postgres@127.0.0.1:5432/postgres]

* Input: a dock of R recorders (full: 4 × 4 × 128 MiB = 2 GiB; quick: 4 × 3 × 16 MiB), each a port
  directory with the identity file and ``DCIM/100MEDIA/<Serial>_<OfficerNo>_<ts>_<seq>.MP4`` files.
  The bytes are random (unique per file), not real video: throughput does not depend on content, and
  generating 2 GiB of real footage would take far longer than the measurement. The quick media probe
  therefore flags them undecodable, which costs what it costs on real footage (a few KiB read).
* (a) liuhen: ``ingest.offload.ingest_path`` in-process on the whole dock with the default parallelism,
  the local write-once store and the machine's PostgreSQL (a scratch database per run): one-pass copy
  through the store's staging writer, which computes SHA-256 as it writes (+ SM3 in a parallel thread
  when on), fsync; verified put (expected digest vs the store's, then a hard link), catalog
  transaction, audit event, sequencing, verified receipts.
* (b) ``cp -r DOCK DEST && sync`` — the physical limit of a durable copy.
* (c) (b) then ``sha256sum`` over every copied file (the two-pass peer); with SM3: also
  ``openssl dgst -sm3`` over the copies.
* Before every run the page cache is dropped when permitted (root), so each run reads the source
  from disk; ``cached`` in the JSON says whether that happened. Median of ``--repeat`` (≥ 3) runs.

Last line: one JSON object with ``ratio_vs_cp_sync`` = t(cp+sync)/t(liuhen) and
``ratio_vs_cp_sha256sum`` = t(cp+sync+sha256sum)/t(liuhen) (> 1 = liuhen faster), and the SM3 ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg

from liuhen.catalog.db import migrate, with_dbname
from liuhen.core.config import Settings
from liuhen.ingest.layout import IDENTITY_FILE, media_name
from liuhen.ingest.offload import ingest_path
from liuhen.wiring import build_runtime

CST = timezone(timedelta(hours=8))




def make_dock(dock: Path, recorders: int, files: int, size: int) -> int:

    block = os.urandom(8 << 20)
    start = datetime.now(CST).replace(microsecond=0) - timedelta(hours=3)
    total = 0
    for r in range(recorders):
        serial, officer = f"DSJ-B-{r:04d}", f"1109{r:02d}"
        media = dock / f"port{r + 1:02d}" / "DCIM" / "100MEDIA"
        media.mkdir(parents=True)
        ident = {
            "device_serial": serial,
            "officer_no": officer,
            "officer_name": "测试",
            "unit_code": "110101000000",
            "firmware": "V2.3.1",
            "utc_offset": "+08:00",
            "clock": datetime.now(CST).isoformat(),
        }
        (media.parent.parent / IDENTITY_FILE).write_text(json.dumps(ident, ensure_ascii=False), encoding="utf-8")
        for i in range(files):
            t = start + timedelta(minutes=10 * i + r)
            p = media / media_name(serial, officer, t.strftime("%Y%m%d%H%M%S"), i + 1, "MP4")
            with open(p, "wb") as f:
                f.write(os.urandom(4096))  # unique per file
                left = size - 4096
                while left > 0:
                    k = min(left, len(block))
                    f.write(block[:k])
                    left -= k
            ts = t.timestamp() + 300
            os.utime(p, (ts, ts))
            total += size
    subprocess.run(["sync"], check=True)
    return total


def drop_caches() -> bool:
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def run_liuhen(dock: Path, work: Path, admin_url: str, sm3: bool) -> float:

    name = f"liuhen_bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        url = with_dbname(admin_url, name)
        with psycopg.connect(url) as c:
            migrate(c)
        data = work / f"data-{uuid.uuid4().hex[:6]}"
        s = Settings(data_dir=data, database_url=url, store="local", digests=["sha256", "sm3"] if sm3 else ["sha256"])
        rt = build_runtime(s, migrate=False)
        try:
            drop_caches()
            t0 = time.perf_counter()
            receipts = ingest_path(rt, dock, actor="bench")
            dt = time.perf_counter() - t0
        finally:
            rt.close()
        if not all(r.safe_to_wipe for r in receipts):
            raise SystemExit(f"liuhen run not safe to wipe: {[r.reasons for r in receipts]}")
        shutil.rmtree(data, ignore_errors=True)
        return dt
    finally:
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_cp(dock: Path, work: Path, hashers: list[list[str]]) -> float:
    dst = work / f"cp-{uuid.uuid4().hex[:6]}"
    drop_caches()
    t0 = time.perf_counter()
    subprocess.run(["cp", "-r", str(dock), str(dst)], check=True)
    subprocess.run(["sync"], check=True)
    files = sorted(str(p) for p in dst.rglob("*") if p.is_file())
    for h in hashers:
        subprocess.run([*h, *files], check=True, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    shutil.rmtree(dst, ignore_errors=True)
    return dt


def hash_rates() -> dict[str, float]:
    b = os.urandom(64 << 20)
    out = {}
    for n in ("sha256", "sm3"):
        h = hashlib.new(n)
        t = time.perf_counter()
        h.update(b)
        out[n] = round(64 * 1.048576 / (time.perf_counter() - t), 1)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small input (< 60 s)")
    ap.add_argument(
        "--url", default=os.environ.get("LIUHEN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-sm3", action="store_true", help="skip the SM3 variants")
    ap.add_argument("--dir", default=None, help="work directory (default: a temp dir on /tmp's filesystem)")
    a = ap.parse_args(argv)
    recorders, files, size = (4, 3, 16 << 20) if a.quick else (4, 4, 128 << 20)
    repeat = max(3, a.repeat)
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-ingest-", dir=a.dir))
    try:
        dock = work / "dock"
        total = make_dock(dock, recorders, files, size)
        cached = not drop_caches()
        variants: dict[str, Any] = {
            "liuhen (sha256)": lambda: run_liuhen(dock, work, a.url, sm3=False),
            "cp -r + sync": lambda: run_cp(dock, work, []),
            "cp -r + sync + sha256sum": lambda: run_cp(dock, work, [["sha256sum"]]),
        }
        if not a.no_sm3:
            variants["liuhen (sha256+sm3)"] = lambda: run_liuhen(dock, work, a.url, sm3=True)
            variants["cp -r + sync + sha256sum + sm3"] = lambda: run_cp(
                dock, work, [["sha256sum"], ["openssl", "dgst", "-sm3"]]
            )
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(repeat):  # interleaved, so drift in the machine hits every variant alike
            for k, fn in variants.items():
                times[k].append(fn())
        med = {k: statistics.median(v) for k, v in times.items()}
        mb = total / 1e6
        print(
            f"\ninput: {recorders} recorders x {files} files x {size >> 20} MiB = {mb:.0f} MB "
            f"(random bytes, valid names); page cache dropped before each run: {not cached}; "
            f"median of {repeat}; {os.cpu_count()} cores"
        )
        print(f"{'variant':34} {'median s':>9} {'MB/s':>8}   runs")
        for k, v in med.items():
            print(f"{k:34} {v:9.2f} {mb / v:8.1f}   {', '.join(f'{x:.2f}' for x in times[k])}")
        rates = hash_rates()
        print(f"single-thread hash rates (MB/s): {rates}")
        res: dict[str, Any] = {
            "benchmark": "ingest",
            "quick": a.quick,
            "input_bytes": total,
            "recorders": recorders,
            "files": recorders * files,
            "cached": cached,
            "repeat": repeat,
            "median_s": {k: round(v, 3) for k, v in med.items()},
            "liuhen_mb_s": round(mb / med["liuhen (sha256)"], 1),
            "ratio_vs_cp_sync": round(med["cp -r + sync"] / med["liuhen (sha256)"], 3),
            "ratio_vs_cp_sha256sum": round(med["cp -r + sync + sha256sum"] / med["liuhen (sha256)"], 3),
            "hash_mb_s": rates,
        }
        if not a.no_sm3:
            res["sm3_ratio_vs_cp_sync"] = round(med["cp -r + sync"] / med["liuhen (sha256+sm3)"], 3)
            res["sm3_ratio_vs_cp_sha256sum_sm3"] = round(
                med["cp -r + sync + sha256sum + sm3"] / med["liuhen (sha256+sm3)"], 3
            )
            res["sm3_bound_s"] = round(total / 1e6 / rates["sm3"], 2)
        print(json.dumps(res))
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
