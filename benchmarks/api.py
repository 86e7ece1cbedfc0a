"""API benchmark: search latency at 10^6 file rows, Range streaming through the API vs nginx.

    python -m benchmarks.api [--quick] [--rows N] [--pg URL]

Seeds a scratch database on 127.0.0.1:5432 (server-side bulk INSERT … SELECT generate_series, then
ANALYZE), runs mixed search queries over real HTTP (uvicorn on loopback, one httpx client), and streams
the same proxy file in 8 MiB Range requests from the API and from nginx (Debian package, temporary
config on a loopback port) with the same client. Last line: JSON with search_p99_ms_1e6 and
stream_vs_nginx (API throughput / nginx throughput).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

SEED_SQL = """
INSERT INTO files (sha256, size, media_kind, ext, device_serial, officer_no, unit_code, recorded_at,
                   duration_s, storage_key, ingested_at, flags, media_status, legal_hold)
SELECT encode(sha256(('f' || i)::bytea), 'hex'), 1000000 + i %% 5000, 'video', 'mp4',
       'DSJ-' || (i %% 3000), 'O' || (i %% 1000), 'U' || (i %% 40),
       timestamptz '2023-01-01' + make_interval(secs => i * 30), 300,
       'k' || i, timestamptz '2023-01-01' + make_interval(secs => i * 30 + 3600),
       CASE WHEN i %% 997 = 0 THEN ARRAY['clock_drift'] ELSE '{}' END, 'ok', i %% 500 = 0
FROM generate_series(1, %s) AS i
"""


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def start_nginx(root: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        raise SystemExit("nginx not found: apt-get install -y nginx")
    port = _free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; sendfile on; client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/px;\n"
        f"  fastcgi_temp_path {tmp}/fc; uwsgi_temp_path {tmp}/uw; scgi_temp_path {tmp}/sc;\n"
        f"  types {{ video/mp4 mp4; }}\n"
        f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n"
    )
    proc = subprocess.Popen([exe, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"nginx did not start: {(tmp / 'error.log').read_text(errors='replace')[-500:]}")


def ranged_throughput(client: httpx.Client, url: str, size: int, headers: dict[str, str], rounds: int) -> float:
    """MB/s reading the whole file as consecutive 8 MiB Range requests (median over rounds)."""
    step = 8 << 20
    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        got = 0
        for a in range(0, size, step):
            b = min(size, a + step) - 1
            with client.stream("GET", url, headers={**headers, "Range": f"bytes={a}-{b}"}) as r:
                assert r.status_code == 206, r.status_code
                for chunk in r.iter_raw(1 << 20):
                    got += len(chunk)
        assert got == size
        rates.append(size / (time.perf_counter() - t) / 1e6)
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e5 rows, 32 MB file, fewer queries (< 60 s)")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--pg", default=os.environ.get("LIUHEN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args(argv)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    n_queries = 200 if args.quick else 600
    file_mb = 32 if args.quick else 256
    rounds = 3

    from api.app import create_app
    from api.auth import issue_token
    from catalog.db import Catalog, migrate
    from liuhen.config import Settings
    from liuhen.runtime import Runtime
    from storage.memory import MemoryStore
    from tests.api.conftest import LiveServer

    dbname = f"liuhen_bench_{uuid.uuid4().hex[:8]}"
    info = psycopg.conninfo.conninfo_to_dict(args.pg)
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": dbname})
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    tmp = Path(tempfile.mkdtemp(prefix="liuhen-bench-api-"))
    nginx = None
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        t = time.perf_counter()
        with psycopg.connect(url) as conn:
            conn.execute("SET synchronous_commit = off")
            conn.execute(SEED_SQL, (rows,))
            conn.execute(
                "INSERT INTO cases (case_no, agency, subject, case_type, created_by) "
                "VALUES ('B-1', 'a', 's', 'penalty', 'b')"
            )
            conn.execute(
                "INSERT INTO links (case_id, stage, file_id, linked_by) SELECT 1, 'investigation', id, 'b' "
                "FROM files WHERE id % 1000 = 7"
            )
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")
        seed_s = time.perf_counter() - t
        settings = Settings(data_dir=tmp / "data", database_url=url, store="memory")
        catalog = Catalog(url, max_size=8).open()
        rt = Runtime(settings=settings, catalog=catalog, store=MemoryStore(), database_url=url)
        token, _ = issue_token(rt, user="bench", role="reviewer", unit_code="U1", actor="bench")
        hdr = {"Authorization": f"Bearer {token}"}
        # the proxy: one file under derived_dir, served by both
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
        rnd = random.Random(7)
        t_base = 1672531200  # 2023-01-01

        def query() -> dict[str, str]:
            k = rnd.randrange(8)
            if k == 0:
                return {"officer": f"O{rnd.randrange(1000)}"}
            if k == 1:
                return {"device": f"DSJ-{rnd.randrange(3000)}"}
            if k == 2:
                t0 = t_base + rnd.randrange(rows) * 30
                return {
                    "recorded_from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                    "recorded_to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 86400)),
                }
            if k == 3:
                return {"unit": f"U{rnd.randrange(40)}", "flag": "clock_drift"}
            if k == 4:
                i = rnd.randrange(1, rows)
                import hashlib

                return {"sha256": hashlib.sha256(f"f{i}".encode()).hexdigest()[:12]}
            if k == 5:
                return {"case_no": "B-1", "stage": "investigation"}
            if k == 6:
                return {"officer": f"O{rnd.randrange(1000)}", "cursor": str(rnd.randrange(rows // 2, rows))}
            return {}

        app = create_app(rt)
        with LiveServer(app) as srv, httpx.Client(timeout=60) as client:
            for _ in range(20):  # warm-up
                client.get(f"{srv.url}/files", params=query(), headers=hdr)
            lat = []
            for _ in range(n_queries):
                q = query()
                t = time.perf_counter()
                r = client.get(f"{srv.url}/files", params=q, headers=hdr)
                lat.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
            p50, p99 = statistics.median(lat), _pct(lat, 99)
            nginx, nport = start_nginx(derived, tmp)
            api_url = f"{srv.url}/files/{sha['sha256']}/proxy?purpose=benchmark"
            ranged_throughput(client, api_url, len(body), hdr, 1)  # warm-up (records the stream event)
            ranged_throughput(client, f"http://127.0.0.1:{nport}/proxy.mp4", len(body), {}, 1)
            api_mbs = ranged_throughput(client, api_url, len(body), hdr, rounds)
            ngx_mbs = ranged_throughput(client, f"http://127.0.0.1:{nport}/proxy.mp4", len(body), {}, rounds)
        catalog.close()
        ratio = api_mbs / ngx_mbs
        print(f"{'measure':38} {'value':>12}")
        print(f"{'file rows (seeded in ' + f'{seed_s:.1f} s)':38} {rows:>12,}")
        print(f"{'search p50 ms (HTTP, ' + str(n_queries) + ' mixed queries)':38} {p50:>12.2f}")
        print(f"{'search p99 ms':38} {p99:>12.2f}")
        print(f"{'Range stream MB/s via API (' + str(file_mb) + ' MiB)':38} {api_mbs:>12.1f}")
        print(f"{'Range stream MB/s via nginx':38} {ngx_mbs:>12.1f}")
        print(f"{'API / nginx':38} {ratio:>12.2f}")
        print(
            json.dumps(
                {
                    "search_p99_ms_1e6": round(p99, 2),
                    "search_p50_ms": round(p50, 2),
                    "rows": rows,
                    "stream_api_mb_s": round(api_mbs, 1),
                    "stream_nginx_mb_s": round(ngx_mbs, 1),
                    "stream_vs_nginx": round(ratio, 3),
                    "quick": args.quick,
                }
            )
        )
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
