"""Loopback helpers the benchmarks share: a free port, and a throwaway nginx peer started and waited for."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

NGINX_MISSING = (
    "this benchmark compares with nginx (Debian's nginx-light) and it is not installed; "
    "install it (as root: apt-get install -y nginx-light) and run again"
)


def nginx_exe() -> str:
    """The nginx binary, or a ``SystemExit`` that says how to install it (checked before any long run)."""
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        raise SystemExit(NGINX_MISSING)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_nginx(exe: str, tmp: Path, port: int, http: str, connections: int) -> subprocess.Popen[bytes]:
    """Start ``exe`` with ``http`` inside its ``http {}`` block (prefix ``tmp``) and wait until ``port`` answers.

    Raises ``RuntimeError`` with the end of nginx's error log when it does not come up within ~15 s."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
        f"events {{ worker_connections {connections}; }}\n"
        f"http {{ access_log off; {http} }}\n"
    )
    proc = subprocess.Popen([exe, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"nginx did not start: {(tmp / 'error.log').read_text(errors='replace')[-500:]}")
