"""nginx in front of an API node (deploy/nginx/liuhen.conf, rendered for a scratch directory) and Range throughput.

``start_front(api_port, maps, tmp)`` starts Debian's nginx on a loopback port: ``/`` proxied to the API,
one ``internal`` alias location per local directory (derived files, the local store's objects) and, when
``s3`` is given, an internal location proxying presigned GETs to the store. ``ranged_throughput`` reads a
whole file as consecutive 8 MiB Range requests (the player's pattern) and returns MB/s.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import time
from pathlib import Path

import httpx

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "liuhen.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render(api: str, listen: str, maps: dict[str, str], s3: str | None) -> str:
    """deploy/nginx/liuhen.conf's server block with this topology's upstream, listen address and aliases."""
    internal = "\n".join(f"    location {loc} {{ internal; alias {Path(d).resolve()}/; }}" for d, loc in maps.items())
    text = TEMPLATE.read_text()
    text = text.replace("server 10.0.0.21:8000;\n    server 10.0.0.22:8000;", f"server {api};")
    text = text.replace("listen 443 ssl;", f"listen {listen};").replace("listen 80;", f"listen {listen};")
    start, end = text.index("    # BEGIN internal-local"), text.index("    # END internal-local")
    text = text[:start] + internal + "\n" + text[end:]
    if s3:
        text = text.replace("http://10.0.0.10:7480", s3)
    return text


def start_front(
    api_port: int, maps: dict[str, str], tmp: Path, s3: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        raise FileNotFoundError("nginx not found: apt-get install -y nginx-light")
    port = _free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    server = render(f"127.0.0.1:{api_port}", f"127.0.0.1:{port}", maps, s3)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{ access_log off; sendfile on; tcp_nopush on; client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy; types {{ video/mp4 mp4; }}\n{server}\n}}\n"
    )
    proc = subprocess.Popen([exe, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"nginx did not start: {(tmp / 'error.log').read_text(errors='replace')[-500:]}")


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
