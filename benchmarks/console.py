"""Console benchmark: page latency at 10^6 file rows vs the JSON API; first frame and seek in Chromium vs nginx.

    python -m benchmarks.console [--quick] [--rows N] [--per-page N] [--pg URL]

Seeds a scratch database exactly like ``benchmarks.api`` (COPY; N files, N/50 cases, links), signs a console
user in over HTTP and fetches, with the same httpx client on loopback, the case page, the search page and the
file page (console, session cookie) and the JSON the API serves for the same objects (bearer token): p50/p99
each and the ratio page/API (p50 over all three). Then Debian's Chromium (Playwright) opens one real 20-s
H.264/AAC proxy (≥ 10 MB) in a fresh browser context per trial, served by the console (purpose stated, every
Range request checked and logged) and by nginx (Debian package, temporary config on loopback): time to the first
decoded frame (``readyState >= 2`` after navigation) and seek latency (``currentTime = t`` → ``seeked``).
Last line: JSON with page_p99_ms_1e6 (null unless rows == 10^6), page_vs_api, first_frame_vs_nginx, seek_ms_p50.
--quick: 10^5 rows, 40 requests per page, 5 browser trials; full: 10^6 rows, 200 requests, 15 trials.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.benchmarks.api import _pct, seed, start_nginx
from liuhen.benchmarks.local import free_port
from liuhen.catalog.db import Catalog, migrate
from liuhen.console import accounts
from liuhen.console.app import mount
from liuhen.console.config import ConsoleSettings
from liuhen.core import media
from liuhen.core.config import Settings
from liuhen.runtime import Runtime
from liuhen.storage.memory import MemoryStore

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "Quiet-Harbour-42"


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.02)
    return srv, th, f"http://127.0.0.1:{port}"


def console_login(client: httpx.Client, base: str, user: str) -> None:
    page = client.get(f"{base}/ui/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post(f"{base}/ui/login", data={"user": user, "password": PASSWORD, "csrf": token})
    assert r.status_code in (200, 303), r.status_code


def timed(client: httpx.Client, urls: list[str], headers: dict[str, str] | None = None) -> list[float]:
    out = []
    for u in urls:
        t = time.perf_counter()
        r = client.get(u, headers=headers or {})
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (u, r.status_code, r.text[:300])
    return out


def page_latencies(rt: Runtime, base: str, rows: int, n: int) -> dict[str, dict[str, list[float]]]:
    rnd = random.Random(5)
    ncases = max(10, rows // 50)
    cases = [f"B-{rnd.randint(1, ncases)}" for _ in range(n)]
    shas = [r["sha256"] for r in rt.catalog.all(
        "SELECT sha256 FROM files WHERE id = ANY(%s)", ([rnd.randint(1, rows) for _ in range(n)],))]
    officers = [str(100000 + rnd.randint(0, 999)) for _ in range(n)]
    token, _ = issue_token(rt, user="bench_api", role="reviewer", unit_code="U1", actor="bench")
    hdr = {"Authorization": f"Bearer {token}"}
    out: dict[str, dict[str, list[float]]] = {}
    with httpx.Client(timeout=60, follow_redirects=False) as c:
        console_login(c, base, "bench")
        ui = {"case": [f"{base}/ui/cases/{x}" for x in cases],
              "search": [f"{base}/ui/files?officer={o}" for o in officers],
              "file": [f"{base}/ui/files/{s}" for s in shas]}
        api = {"case": [f"{base}/cases/{x}" for x in cases],
               "search": [f"{base}/files?officer={o}" for o in officers],
               "file": [f"{base}/files/{s}" for s in shas]}
        for k in ui:
            timed(c, ui[k][:5])
            timed(c, api[k][:5], hdr)  # warm-up
            out[k] = {"page": timed(c, ui[k]), "api": timed(c, api[k], hdr)}
    return out


FIRST_FRAME = "() => new Promise(r => { const v = document.querySelector('video'); const t0 = performance.now();" \
    " const ok = () => v.readyState >= 2; if (ok()) r(0); else v.addEventListener('loadeddata', () => r(0)); })"
SEEK = "t => new Promise(r => { const v = document.querySelector('video'); const t0 = performance.now();" \
    " v.addEventListener('seeked', () => r(performance.now() - t0), {once: true}); v.currentTime = t; })"


def browser_trials(url: str, cookies: list[Any], trials: int, browser: Any) -> tuple[list[float], list[float]]:
    """Per trial, a fresh context: navigate to the video, time to first frame; then three seeks."""
    first, seeks = [], []
    rnd = random.Random(3)
    for _ in range(trials):
        ctx = browser.new_context()
        if cookies:
            ctx.add_cookies(cookies)
        page = ctx.new_page()
        t = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector("video", state="attached")
        page.evaluate(FIRST_FRAME)
        first.append((time.perf_counter() - t) * 1000)
        for _ in range(3):
            seeks.append(page.evaluate(SEEK, round(rnd.uniform(2, 18), 2)))
        ctx.close()
    return first, seeks


def media_latencies(rt: Runtime, base: str, tmp: Path, trials: int) -> dict[str, Any]:
    if not CHROMIUM.exists():
        return {"skipped": "no /usr/bin/chromium (apt-get install -y chromium)"}
    from playwright.sync_api import sync_playwright

    clip = media.make_video(tmp / "www" / "proxy.mp4", seconds=20, width=640, height=360, bitrate="5M", seed=4)
    f = rt.catalog.one("SELECT id, sha256 FROM files WHERE id = 2")
    assert f is not None
    derived = rt.settings.derived_dir
    derived.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip, derived / "proxy2.mp4")
    rt.catalog.one("INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) VALUES "
                   "(2, 'proxy', %s, %s, 'proxy2.mp4', 'video/mp4', '{}') RETURNING id",
                   (f["sha256"], clip.stat().st_size))
    res: dict[str, Any] = {"proxy_bytes": clip.stat().st_size}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(f"{base}/ui/login")
        page.fill("[data-testid=login-user]", "bench")
        page.fill("[data-testid=login-password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(f"{base}/ui/")
        page.goto(f"{base}/ui/files/{f['sha256']}/play")
        page.fill("[data-testid=purpose]", "benchmark")
        page.click("[data-testid=purpose-submit]")
        src = page.locator("[data-testid=player]").get_attribute("src")
        cookies = ctx.cookies()
        ctx.close()
        first, seeks = browser_trials(f"{base}{src}", cookies, trials, browser)
        res.update(console_first_ms=first, console_seek_ms=seeks)
        try:
            nginx, port = start_nginx(clip.parent, tmp)
        except SystemExit as exc:
            res["nginx_skipped"] = str(exc)
        else:
            try:
                nf, ns = browser_trials(f"http://127.0.0.1:{port}/proxy.mp4", [], trials, browser)
                res.update(nginx_first_ms=nf, nginx_seek_ms=ns)
            finally:
                nginx.terminate()
                nginx.wait(10)
        browser.close()
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^5 rows, 40 requests per page, 5 browser trials")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--per-page", type=int, default=None)
    ap.add_argument("--pg", default=os.environ.get("LIUHEN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args(argv)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    n = args.per_page or (40 if args.quick else 200)
    trials = 5 if args.quick else 15
    dbname = f"liuhen_bench_{uuid.uuid4().hex[:8]}"
    info = psycopg.conninfo.conninfo_to_dict(args.pg)
    url = psycopg.conninfo.make_conninfo("", **{**info, "dbname": dbname})
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"'.encode())
    tmp = Path(tempfile.mkdtemp(prefix="liuhen-bench-console-"))
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        seeded = seed(url, rows)
        print(f"seeded {rows:,} files in {seeded['total_s']:.1f} s", flush=True)
        settings = Settings(data_dir=tmp / "data", database_url=url, store="memory")
        catalog = Catalog(url, max_size=8).open()
        rt = Runtime(settings=settings, catalog=catalog, store=MemoryStore(), database_url=url)
        with catalog.tx() as conn:
            accounts.upsert_user(conn, name="bench", role="reviewer", unit_code="U1")
            accounts.set_password(conn, user="bench", password=PASSWORD, settings=ConsoleSettings(),
                                  must_change=False, actor="bench")
        app = create_app(rt)
        mount(app, rt, settings=ConsoleSettings())
        srv, th, base = serve(app)
        try:
            pages = page_latencies(rt, base, rows, n)
            med = media_latencies(rt, base, tmp, trials)
        finally:
            srv.should_exit = True
            th.join(10)
            catalog.close()
        return report(rows, n, pages, med)
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'.encode())
        shutil.rmtree(tmp, ignore_errors=True)


def report(rows: int, n: int, pages: dict[str, dict[str, list[float]]], med: dict[str, Any]) -> int:
    print(f"\npage latency at {rows:,} file rows, {n} requests each, loopback (ms)")
    print(f"{'page':8} {'console p50':>11} {'p99':>8} {'API p50':>8} {'p99':>8} {'ratio p50':>9}")
    for k, v in pages.items():
        p, a = v["page"], v["api"]
        print(f"{k:8} {statistics.median(p):11.2f} {_pct(p, 99):8.2f} {statistics.median(a):8.2f} {_pct(a, 99):8.2f} "
              f"{statistics.median(p) / statistics.median(a):9.2f}")
    allp = [x for v in pages.values() for x in v["page"]]
    alla = [x for v in pages.values() for x in v["api"]]
    p99, ratio = _pct(allp, 99), statistics.median(allp) / statistics.median(alla)
    out: dict[str, Any] = {"page_p99_ms_1e6": round(p99, 2) if rows == 1_000_000 else None,
                           "page_vs_api": round(ratio, 3), "page_p99_ms": round(p99, 2), "rows": rows}
    if "skipped" in med:
        print(f"\nbrowser timings skipped: {med['skipped']}")
        out.update(first_frame_vs_nginx=None, seek_ms_p50=None, browser_skipped=med["skipped"])
    else:
        cf, cs = statistics.median(med["console_first_ms"]), statistics.median(med["console_seek_ms"])
        print(f"\nChromium, {med['proxy_bytes'] / 1e6:.1f} MB H.264 proxy, fresh context per trial (ms, p50)")
        print(f"  console: first frame {cf:.1f}, seek {cs:.1f}")
        out.update(console_first_frame_ms_p50=round(cf, 1), seek_ms_p50=round(cs, 1))
        if "nginx_first_ms" in med:
            nf, ns = statistics.median(med["nginx_first_ms"]), statistics.median(med["nginx_seek_ms"])
            print(f"  nginx:   first frame {nf:.1f}, seek {ns:.1f}")
            out.update(first_frame_vs_nginx=round(cf / nf, 3), nginx_first_frame_ms_p50=round(nf, 1),
                       nginx_seek_ms_p50=round(ns, 1))
        else:
            print(f"  nginx column skipped: {med['nginx_skipped']}")
            out.update(first_frame_vs_nginx=None, nginx_skipped=med["nginx_skipped"])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
