"""API benchmark: search latency per filter kind at 10^6 file rows; Range streaming through the API vs nginx.

    python -m benchmarks.api [--quick] [--rows N] [--per-kind N] [--pg URL] [--explain]

Seeds a scratch database on 127.0.0.1:5432 with COPY (files' secondary indexes dropped during the load
and rebuilt after it, then VACUUM ANALYZE): N files from 1000 officers / ~3000 devices / 40 units over
~1 year, 85 % video, flags (no_gps 20 %, late_upload 0.5 %, clock_drift 0.1 %, truncated), N/50 cases
with 10 % of files linked across the 7 stages (5 % of links unlinked). Then, for every filter kind the
API offers (officer, device, unit, time windows, case, stage, flags, digest, held, media kind, combinations,
deep keyset pages), runs the same randomised queries twice: in-process (``api.search.search_files`` on the
pool) and over real HTTP (uvicorn on loopback + httpx, token auth included), and prints p50/p99 per kind
and overall. Finally streams one proxy file in 8 MiB Range requests from the API and from nginx (Debian
package, temporary config on a loopback port) with the same client; then the deployment's edge
(``benchmarks.county_edge``): nginx rendered from deploy/nginx/liuhen.conf in front of the API with
``LIUHEN_EDGE_ACCEL`` — per-request X-Accel-Redirect and a playback link — vs that nginx serving the file.
Last line: JSON with search_p99_ms_1e6 (overall HTTP p99; null unless rows == 10^6), stream_vs_nginx
(Python streaming) and stream_vs_nginx_direct (playback link behind nginx) / stream_accel_vs_nginx_direct.
--quick: 10^5 rows, 60 queries per kind, 32 MiB file (< 60 s); the full run: 10^6 rows, 200 per kind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.api.search import PLANNER_SETTINGS, build_query, search_files
from liuhen.benchmarks.county_edge import ranged_throughput, stream_vs_nginx_direct
from liuhen.benchmarks.local import free_port, nginx_exe, run_nginx
from liuhen.catalog.db import Catalog, migrate, with_dbname
from liuhen.core.config import Settings
from liuhen.runtime import Runtime
from liuhen.storage.memory import MemoryStore

BASE = datetime(2023, 1, 1, tzinfo=UTC)
STAGES = ("filing", "investigation", "review", "decision", "service", "execution", "closure")
STAGE_WEIGHTS = (5, 50, 15, 10, 8, 7, 5)
FILE_COLS = (
    "id, sha256, size, media_kind, ext, device_serial, officer_no, unit_code, recorded_at, duration_s, "
    "storage_key, ingested_at, flags, media_status, legal_hold"
)


def _file_lines(rows: int, rnd: random.Random) -> Any:
    """COPY text lines for ``files``, in chunks; ids in ingest order, recorded 0.5-10 h earlier (0.5 %: days)."""
    kinds = ["video"] * 17 + ["photo"] * 2 + ["audio"]
    ext = {"video": "mp4", "photo": "jpg", "audio": "wav"}
    buf: list[str] = []
    for i in range(1, rows + 1):
        officer = rnd.randrange(1000)
        device = officer if rnd.random() < 0.9 else rnd.randrange(3000)
        ingested = BASE + timedelta(seconds=i * 30)
        late = rnd.random() < 0.005
        recorded = ingested - (timedelta(days=rnd.uniform(2, 30)) if late else timedelta(hours=rnd.uniform(0.5, 10)))
        mk = kinds[i % 20]
        flags = ["late_upload"] if late else []
        if i % 997 == 0:
            flags.append("clock_drift")
        if rnd.random() < 0.2:
            flags.append("no_gps")
        if i % 20011 == 0:
            flags.append("truncated")
        sha = hashlib.sha256(b"f%d" % i).hexdigest()
        buf.append(
            f"{i}\t{sha}\t{1_000_000 + i % 5000}\t{mk}\t{ext[mk]}\tDSJ-{device:05d}\t{100000 + officer}"
            f"\tU{officer % 40:02d}\t{recorded.isoformat()}\t{0 if mk == 'photo' else 300}\tsha256/{sha[:2]}/{sha}"
            f"\t{ingested.isoformat()}\t{{{','.join(flags)}}}\tok\t{'t' if i % 10 == 3 else 'f'}\n"
        )
        if len(buf) >= 20_000:
            yield "".join(buf)
            buf.clear()
    yield "".join(buf)


def seed(url: str, rows: int) -> dict[str, float]:
    """COPY ``rows`` files, ``rows // 50`` cases and links for every 10th file; returns phase timings (s)."""
    rnd = random.Random(11)
    t0 = time.perf_counter()
    out: dict[str, float] = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        idx = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'files' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'files'::regclass)"
        ).fetchall()
        for name, _ in idx:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.cursor().copy(f"COPY files ({FILE_COLS}) FROM STDIN") as cp:
            for chunk in _file_lines(rows, rnd):
                cp.write(chunk)
        conn.execute("SELECT setval('files_id_seq', %s)", (rows,))
        out["copy_files_s"] = time.perf_counter() - t0
        for _, ddl in idx:
            conn.execute(ddl)
        out["indexes_s"] = time.perf_counter() - t0 - out["copy_files_s"]
        ncases = max(10, rows // 50)
        with conn.cursor().copy(
            "COPY cases (id, case_no, agency, unit_code, subject, case_type, stage, created_by) FROM STDIN"
        ) as cp:
            cp.write(
                "".join(
                    f"{c}\tB-{c}\tagency\tU{c % 40:02d}\ts\tpenalty\tinvestigation\tbench\n"
                    for c in range(1, ncases + 1)
                )
            )
        conn.execute("SELECT setval('cases_id_seq', %s)", (ncases,))
        with conn.cursor().copy(
            "COPY links (case_id, stage, file_id, linked_by, unlinked_at, unlinked_by) FROM STDIN"
        ) as cp:
            buf = []
            for i in range(3, rows + 1, 10):
                unlinked = rnd.random() < 0.05
                buf.append(
                    f"{1 + (i // 10) * 7919 % ncases}\t{rnd.choices(STAGES, STAGE_WEIGHTS)[0]}\t{i}\tbench"
                    + ("\t2024-01-01\tbench\n" if unlinked else "\t\\N\t\\N\n")
                )
            cp.write("".join(buf))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE files")
        conn.execute("VACUUM ANALYZE links")
        conn.execute("ANALYZE")
    out["total_s"] = time.perf_counter() - t0
    return out


def query_kinds(rows: int, rnd: random.Random) -> dict[str, Callable[[], dict[str, str]]]:
    """Filter kind -> a generator of HTTP query parameters (random values over the seeded data)."""
    t_end = BASE + timedelta(seconds=rows * 30)
    span = (t_end - BASE).total_seconds()

    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def window(days: float) -> dict[str, str]:
        a = BASE + timedelta(seconds=rnd.uniform(0, max(1.0, span - days * 86400)))
        return {"recorded_from": iso(a), "recorded_to": iso(a + timedelta(days=days))}

    def officer() -> str:
        return str(100000 + rnd.randrange(1000))

    ncases = max(10, rows // 50)
    return {
        "none": lambda: {},
        "officer": lambda: {"officer": officer()},
        "device": lambda: {"device": f"DSJ-{rnd.randrange(3000):05d}"},
        "unit": lambda: {"unit": f"U{rnd.randrange(40):02d}"},
        "time 1 day": lambda: window(1),
        "time 90 days": lambda: window(90),
        "time to (old)": lambda: {"recorded_to": iso(BASE + timedelta(seconds=rnd.uniform(0, span / 4)))},
        "officer+time 30d": lambda: {"officer": officer(), **window(30)},
        "unit+time 7d+photo": lambda: {"unit": f"U{rnd.randrange(40):02d}", "media_kind": "photo", **window(7)},
        "flag rare": lambda: {"flag": rnd.choice(["clock_drift", "late_upload", "truncated"])},
        "flag common": lambda: {"flag": "no_gps"},
        "unit+flag": lambda: {"unit": f"U{rnd.randrange(40):02d}", "flag": "clock_drift"},
        "flag+time 90d": lambda: {"flag": "late_upload", **window(90)},
        "digest": lambda: {"sha256": hashlib.sha256(b"f%d" % rnd.randrange(1, rows)).hexdigest()},
        "digest prefix": lambda: {"sha256": hashlib.sha256(b"f%d" % rnd.randrange(1, rows)).hexdigest()[:8]},
        "case": lambda: {"case_no": f"B-{rnd.randrange(1, ncases)}"},
        "case+stage": lambda: {"case_no": f"B-{rnd.randrange(1, ncases)}", "stage": rnd.choice(STAGES)},
        "stage": lambda: {"stage": rnd.choice(STAGES)},
        "stage+officer": lambda: {"stage": rnd.choice(STAGES), "officer": officer()},
        "held": lambda: {"held": "true"},
        "media kind": lambda: {"media_kind": rnd.choice(["audio", "photo", "unknown"])},
        "page (cursor) none": lambda: {"cursor": str(rnd.randrange(2, rows))},
        "page (cursor) stage": lambda: {"stage": rnd.choice(STAGES), "cursor": str(rnd.randrange(2, rows))},
        "page (cursor) flag": lambda: {"flag": "clock_drift", "cursor": str(rnd.randrange(2, rows))},
        "page (cursor) time 90d": lambda: {**window(90), "cursor": str(rnd.randrange(2, rows))},
        "page (cursor) unit": lambda: {"unit": f"U{rnd.randrange(40):02d}", "cursor": str(rnd.randrange(2, rows))},
    }


def as_kwargs(q: dict[str, str]) -> dict[str, Any]:
    """HTTP query parameters -> the keyword arguments the route passes to ``search_files``."""
    out: dict[str, Any] = {}
    for k, v in q.items():
        if k in ("recorded_from", "recorded_to"):
            out[k] = datetime.fromisoformat(v.replace("Z", "+00:00"))
        elif k == "cursor":
            out[k] = int(v)
        elif k == "held":
            out[k] = v == "true"
        else:
            out[k] = v
    return out



def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def start_nginx(root: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    exe = nginx_exe()
    port = free_port()
    try:
        proc = run_nginx(
            exe, tmp, port,
            f"sendfile on; client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/px;\n"
            f"  fastcgi_temp_path {tmp}/fc; uwsgi_temp_path {tmp}/uw; scgi_temp_path {tmp}/sc;\n"
            f"  types {{ video/mp4 mp4; }}\n"
            f"  server {{ listen 127.0.0.1:{port}; root {root}; }}",
            connections=64,
        )
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    return proc, port


def _measure(
    kinds: dict[str, Callable[[], dict[str, str]]], n: int, run: Callable[[dict[str, str]], None]
) -> dict[str, list[float]]:
    """Latency (ms) per kind; kinds interleaved round-robin so load drift hits them alike."""
    lat: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(n):
        for k, gen in kinds.items():
            q = gen()
            t = time.perf_counter()
            run(q)
            lat[k].append((time.perf_counter() - t) * 1000)
    return lat


def explain(url: str, kinds: dict[str, Callable[[], dict[str, str]]]) -> None:
    """One EXPLAIN (ANALYZE, BUFFERS) per kind: time and the plan's access paths."""

    with psycopg.connect(url, autocommit=True) as conn:
        for setting in PLANNER_SETTINGS:  # as search_files sets them (SET LOCAL) for every search
            conn.execute(f"SET {setting}".encode())
        for k, gen in kinds.items():
            q = as_kwargs(gen())
            sql, params = build_query(limit=50, cursor=q.pop("cursor", None), **q)
            plan = conn.execute(
                ("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).encode(), params, prepare=False
            ).fetchone()
            assert plan is not None
            top = plan[0][0]
            paths: list[str] = []

            def walk(node: dict[str, Any], paths: list[str] = paths) -> None:
                name = node["Node Type"] + (f" {node['Index Name']}" if "Index Name" in node else "")
                if name not in paths:
                    paths.append(name)
                for child in node.get("Plans", []):
                    walk(child, paths)

            walk(top["Plan"])
            print(f"  {k:24} {top['Execution Time']:8.2f} ms  {' > '.join(paths)[:150]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^5 rows, 60 queries per kind, 32 MiB file (< 60 s)")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--per-kind", type=int, default=None, help="queries per filter kind and mode")
    ap.add_argument("--explain", action="store_true", help="print one EXPLAIN ANALYZE per filter kind")
    ap.add_argument("--pg", default=os.environ.get("LIUHEN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args(argv)
    nginx_exe()  # the streaming figures need nginx: say so now, not after the search part
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    per_kind = args.per_kind or (60 if args.quick else 200)
    file_mb = 32 if args.quick else 256
    rounds = 3

    from tests.api.conftest import LiveServer

    dbname = f"liuhen_bench_{uuid.uuid4().hex[:8]}"
    url = with_dbname(args.pg, dbname)
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"'.encode())
    tmp = Path(tempfile.mkdtemp(prefix="liuhen-bench-api-"))
    nginx = None
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        seeded = seed(url, rows)
        print(
            f"seeded {rows:,} files with COPY in {seeded['total_s']:.1f} s (copy {seeded['copy_files_s']:.1f} s, "
            f"indexes {seeded['indexes_s']:.1f} s)",
            flush=True,
        )
        kinds = query_kinds(rows, random.Random(7))
        if args.explain:
            explain(url, kinds)
        settings = Settings(data_dir=tmp / "data", database_url=url, store="memory")
        catalog = Catalog(url, max_size=8).open()
        rt = Runtime(settings=settings, catalog=catalog, store=MemoryStore(), database_url=url)
        # agency-wide (no unit): the searches run over every row, as before units became boundaries
        token, _ = issue_token(rt, user="bench", role="reviewer", unit_code=None, actor="bench")
        hdr = {"Authorization": f"Bearer {token}"}
        body = os.urandom(file_mb << 20)
        derived = settings.derived_dir
        derived.mkdir(parents=True)
        (derived / "proxy.mp4").write_bytes(body)
        sha = catalog.one("SELECT id, sha256 FROM files WHERE id = 1")
        assert sha is not None
        catalog.one(
            "INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) VALUES "
            "(1, 'proxy', %s, %s, 'proxy.mp4', 'video/mp4', '{}') RETURNING id",
            (sha["sha256"], len(body)),
        )

        def in_process(q: dict[str, str]) -> None:
            kw = as_kwargs(q)
            search_files(rt, limit=50, cursor=kw.pop("cursor", None), **kw)

        _measure(kinds, 10, in_process)  # warm-up (caches after the bulk load)
        t = time.perf_counter()
        lat_db = _measure(kinds, per_kind, in_process)
        db_s = time.perf_counter() - t
        app = create_app(rt)
        with LiveServer(app) as srv, httpx.Client(timeout=60) as client:

            def over_http(q: dict[str, str]) -> None:
                r = client.get(f"{srv.url}/files", params=q, headers=hdr)
                assert r.status_code == 200, r.text

            _measure(kinds, 3, over_http)  # warm-up
            t = time.perf_counter()
            lat_http = _measure(kinds, per_kind, over_http)
            http_s = time.perf_counter() - t
            nginx, nport = start_nginx(derived, tmp)
            api_url = f"{srv.url}/files/{sha['sha256']}/proxy?purpose=benchmark"
            ranged_throughput(client, api_url, len(body), hdr, 1)  # warm-up (records the stream event)
            ranged_throughput(client, f"http://127.0.0.1:{nport}/proxy.mp4", len(body), {}, 1)
            api_mbs = ranged_throughput(client, api_url, len(body), hdr, rounds)
            ngx_mbs = ranged_throughput(client, f"http://127.0.0.1:{nport}/proxy.mp4", len(body), {}, rounds)
        catalog.close()
        ratio = api_mbs / ngx_mbs
        nginx.terminate()
        nginx.wait(10)
        nginx = None
        # the deployment's edge: nginx in front of the API (X-Accel-Redirect; playback links) vs nginx-direct
        edge = stream_vs_nginx_direct(file_mb, args.pg, rounds)
        all_db = [x for v in lat_db.values() for x in v]
        all_http = [x for v in lat_http.values() for x in v]
        print(f"\nsearch latency at {rows:,} file rows, {per_kind} queries per kind and mode, limit 50 (ms)")
        print(f"{'filter kind':26} {'in-proc p50':>11} {'p99':>8} {'HTTP p50':>9} {'p99':>8}")
        for k in kinds:
            d, h = lat_db[k], lat_http[k]
            print(
                f"{k:26} {statistics.median(d):11.2f} {_pct(d, 99):8.2f} {statistics.median(h):9.2f} {_pct(h, 99):8.2f}"
            )
        p50, p99 = statistics.median(all_http), _pct(all_http, 99)
        label = f"ALL ({len(all_http)} queries)"
        print(f"{label:26} {statistics.median(all_db):11.2f} {_pct(all_db, 99):8.2f} {p50:9.2f} {p99:8.2f}")
        print(f"(in-process {db_s:.1f} s, HTTP {http_s:.1f} s; HTTP adds token lookup, routing, JSON, loopback)\n")
        print(f"{'Range streaming, ' + str(file_mb) + ' MiB in 8 MiB requests':38} {'MB/s':>8}")
        print(f"{'  via the API (proxy endpoint)':38} {api_mbs:8.1f}")
        print(f"{'  via nginx (same file, same client)':38} {ngx_mbs:8.1f}")
        print(f"{'  API / nginx':38} {ratio:8.2f}")
        print("behind nginx (deploy/nginx/liuhen.conf, LIUHEN_EDGE_ACCEL), same client, same file size:")
        print(f"{'  nginx-direct':38} {edge['stream_nginx_direct_mb_s']:8.1f}")
        print(f"{'  API + X-Accel-Redirect per request':38} {edge['stream_api_via_nginx_mb_s']:8.1f}")
        print(f"{'  playback link (one API request)':38} {edge['stream_link_mb_s']:8.1f}")
        print(f"{'  X-Accel / nginx-direct':38} {edge['stream_accel_vs_nginx_direct']:8.2f}")
        print(f"{'  link / nginx-direct':38} {edge['stream_vs_nginx_direct']:8.2f}")
        print(
            json.dumps(
                {
                    "search_p99_ms_1e6": round(p99, 2) if rows == 1_000_000 else None,
                    "search_p50_ms_1e6": round(p50, 2) if rows == 1_000_000 else None,
                    "search_p99_ms": round(p99, 2),
                    "search_p50_ms": round(p50, 2),
                    "search_p99_ms_in_process": round(_pct(all_db, 99), 2),
                    "worst_kind_p99_ms": round(max(_pct(v, 99) for v in lat_http.values()), 2),
                    "rows": rows,
                    "queries_per_kind": per_kind,
                    "seed_s": round(seeded["total_s"], 1),
                    "stream_api_mb_s": round(api_mbs, 1),
                    "stream_nginx_mb_s": round(ngx_mbs, 1),
                    "stream_vs_nginx": round(ratio, 3),
                    **edge,
                    "quick": args.quick,
                }
            )
        )
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'.encode())
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
