"""nginx in front of an API node (deploy/nginx/liuhen.conf, rendered for a scratch directory) and Range throughput.

``start_front(api_port, maps, tmp)`` starts Debian's nginx on a loopback port: ``/`` proxied to the API,
one ``internal`` alias location per local directory (derived files, the local store's objects) and, when
``s3`` is given, an internal location proxying presigned GETs to the store. ``ranged_throughput`` reads a
whole file as consecutive 8 MiB Range requests (the player's pattern) and returns MB/s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.benchmarks.local import free_port, nginx_exe, run_nginx
from liuhen.catalog.db import Catalog, migrate
from liuhen.core.config import Settings
from liuhen.runtime import Runtime
from liuhen.storage.memory import MemoryStore
from tests.api.conftest import LiveServer

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "liuhen.conf"



def render(
    api: str,
    listen: str,
    maps: dict[str, str],
    s3: str | None,
    public: dict[str, str] | None = None,
    secret: str | None = None,
) -> str:
    """deploy/nginx/liuhen.conf's server block with this topology's upstream, listen address and aliases.

    ``public``: location → directory served directly (the benchmark's "nginx-direct" peer).
    """
    internal = "\n".join(
        [f"    location {loc} {{ internal; alias {Path(d).resolve()}/; }}" for d, loc in maps.items()]
        + [f"    location {loc} {{ alias {Path(d).resolve()}/; }}" for loc, d in (public or {}).items()]
        + [signed_location(loc, str(Path(d).resolve()), secret) for d, loc in maps.items() if secret]
    )
    text = TEMPLATE.read_text()
    text = text.replace("server 10.0.0.21:8000;\n    server 10.0.0.22:8000;", f"server {api};")
    text = text.replace("listen 443 ssl;", f"listen {listen};").replace("listen 80;", f"listen {listen};")
    start, end = text.index("    # BEGIN internal-local"), text.index("    # END internal-local")
    text = text[:start] + internal + "\n" + text[end:]
    if s3:
        text = text.replace("http://10.0.0.10:7480", s3)
    return text


def signed_location(loc: str, directory: str, secret: str) -> str:
    """A public location serving ``directory`` to holders of a playback link (api.streaming.signed_link)."""
    return (
        f"    location /_liuhen/signed{loc} {{\n"
        f"        secure_link $arg_md5,$arg_expires;\n"
        f'        secure_link_md5 "$secure_link_expires$uri$remote_addr {secret}";\n'
        f'        if ($secure_link = "") {{ return 403; }}\n'
        f'        if ($secure_link = "0") {{ return 410; }}\n'
        f"        alias {directory}/;\n    }}"
    )


def start_front(
    api_port: int,
    maps: dict[str, str],
    tmp: Path,
    s3: str | None = None,
    public: dict[str, str] | None = None,
    secret: str | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    exe = nginx_exe()
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    server = render(f"127.0.0.1:{api_port}", f"127.0.0.1:{port}", maps, s3, public, secret)
    proc = run_nginx(
        exe, tmp, port,
        f"sendfile on; tcp_nopush on; client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy; types {{ video/mp4 mp4; }}\n{server}\n",
        connections=256,
    )
    return proc, port


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
                if r.status_code != 206:
                    raise RuntimeError(f"{url}: HTTP {r.status_code} for bytes={a}-{b}")
                for chunk in r.iter_raw(1 << 20):
                    got += len(chunk)
        if got != size:
            raise RuntimeError(f"{url}: read {got} of {size} bytes")
        rates.append(size / (time.perf_counter() - t) / 1e6)
    return statistics.median(rates)


def stream_vs_nginx_direct(size_mb: int, pg_admin: str, rounds: int = 3) -> dict[str, float]:
    """MB/s of a proxy streamed through nginx in front of the API (X-Accel) vs the same nginx serving it directly.

    A scratch database (migrated), one file row with a proxy derivative of ``size_mb`` random bytes, a
    reviewer token; the API on uvicorn with ``LIUHEN_EDGE_ACCEL``; one nginx with the internal location
    and a public ``/direct/`` alias of the same directory. Same client, 8 MiB Range requests, medians.
    """
    tmp = Path(tempfile.mkdtemp(prefix="liuhen-edge-"))
    tmp.chmod(0o755)
    name = f"liuhen_edge_{uuid.uuid4().hex[:8]}"
    info = psycopg.conninfo.conninfo_to_dict(pg_admin)
    url = psycopg.conninfo.make_conninfo("", **{**info, "dbname": name})
    with psycopg.connect(pg_admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"'.encode())
    old = {k: os.environ.get(k) for k in ("LIUHEN_EDGE_ACCEL", "LIUHEN_EDGE_ACCEL_MAP", "LIUHEN_EDGE_LINK_SECRET")}
    front = None
    try:
        with psycopg.connect(url) as c:
            migrate(c)
        settings = Settings(data_dir=tmp / "data", database_url=url, store="memory")
        derived = settings.derived_dir
        derived.mkdir(parents=True)
        body = os.urandom(size_mb << 20)
        (derived / "proxy.mp4").write_bytes(body)
        catalog = Catalog(url, max_size=4).open()
        rt = Runtime(settings=settings, catalog=catalog, store=MemoryStore(), database_url=url)
        sha = hashlib.sha256(body).hexdigest()
        f = catalog.one(
            "INSERT INTO files (sha256, size, media_kind, storage_key, unit_code) "
            "VALUES (%s, %s, 'video', %s, 'U1') RETURNING id",
            (sha, len(body), f"sha256/{sha}"),
        )
        assert f is not None
        catalog.one(
            "INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) VALUES "
            "(%s, 'proxy', %s, %s, 'proxy.mp4', 'video/mp4', '{}') RETURNING id",
            (f["id"], sha, len(body)),
        )
        token, _ = issue_token(rt, user="bench", role="reviewer", unit_code="U1", actor="bench")
        hdr = {"Authorization": f"Bearer {token}"}
        maps = {str(derived): "/_liuhen/derived/"}
        os.environ["LIUHEN_EDGE_ACCEL"] = "true"
        os.environ["LIUHEN_EDGE_ACCEL_MAP"] = json.dumps(maps)
        secret = uuid.uuid4().hex
        os.environ["LIUHEN_EDGE_LINK_SECRET"] = secret
        with LiveServer(create_app(rt)) as srv, httpx.Client(timeout=120) as client:
            front, port = start_front(srv.port, maps, tmp / "nginx", public={"/direct/": str(derived)}, secret=secret)
            via = f"http://127.0.0.1:{port}/files/{sha}/proxy?purpose=benchmark"
            plain = f"http://127.0.0.1:{port}/direct/proxy.mp4"
            ranged_throughput(client, via, len(body), hdr, 1)  # warm-up (and the stream's access event)
            ranged_throughput(client, plain, len(body), {}, 1)
            api_mbs = ranged_throughput(client, via, len(body), hdr, rounds)
            ngx_mbs = ranged_throughput(client, plain, len(body), {}, rounds)
            # a player: one authorised request for the playback link (access recorded), then Range requests
            t = time.perf_counter()
            link = client.get(via + "&link=true", headers=hdr).json()["url"]
            link_mbs = ranged_throughput(client, f"http://127.0.0.1:{port}{link}", len(body), {}, rounds)
            link_s = time.perf_counter() - t
        catalog.close()
        return {
            "stream_api_via_nginx_mb_s": round(api_mbs, 1),
            "stream_nginx_direct_mb_s": round(ngx_mbs, 1),
            "stream_link_mb_s": round(link_mbs, 1),
            "stream_link_total_s": round(link_s, 2),
            "stream_accel_vs_nginx_direct": round(api_mbs / ngx_mbs, 3),
            "stream_vs_nginx_direct": round(link_mbs / ngx_mbs, 3),
        }
    finally:
        if front is not None:
            front.terminate()
            front.wait(10)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        with psycopg.connect(pg_admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        shutil.rmtree(tmp, ignore_errors=True)
