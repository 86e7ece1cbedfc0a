"""The main job end to end: ``liuhen demo`` on the embedded defaults and on real servers.

Both run as real subprocesses of the installed ``liuhen`` command, the way a user runs them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow  # whole demo runs and embedded PostgreSQL: 10–35 s each

LIUHEN = [sys.executable, "-m", "liuhen.cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
    env["LIUHEN_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def _postgres_procs(pgdata: Path) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            if p.info["name"] == "postgres" and any(str(pgdata) in a for a in (p.info["cmdline"] or [])):
                out.append(p)
        except psutil.Error:
            continue
    return out


def _run_demo(env: dict[str, str], timeout: int = 600) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [*LIUHEN, "demo", "--small", "--minutes", "0.1", "--json"],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert proc.returncode == 0, f"demo failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    s = json.loads(proc.stdout)  # stdout is exactly one JSON document (the table goes to stderr)
    assert f"export bag: {s['export']}\n" in proc.stderr  # the whole path, on a line of its own
    return s


def _check_summary(s: dict, recorders: int = 3) -> None:  # type: ignore[type-arg]
    assert s["ok"] is True
    assert s["recorders"] == recorders == s["safe_to_wipe"]
    assert s["files"] >= 3 * recorders
    # counts match the catalog and the store
    assert s["catalog_rows"] == s["store_objects"] == s["distinct_contents"]
    assert s["flags"].get("truncated", 0) + s["flags"].get("undecodable", 0) >= 1, s["flags"]
    assert s["derivatives"] > 0
    assert s["verdict"] == "VERIFIED"
    assert Path(s["export"], "bagit.txt").exists()


def test_demo_on_embedded_defaults(open_tmp: Path) -> None:
    """README command 1: embedded PostgreSQL, local WORM store, in-process workers; no server left behind."""
    tmp_path = open_tmp
    env = _env(tmp_path)
    s = _run_demo(env)
    _check_summary(s)
    assert not _postgres_procs(tmp_path / "data" / "pgdata"), "embedded postgres left running after exit"
    # a second run reuses the data: nothing is stored twice
    s2 = _run_demo(env)
    assert s2["ok"] and s2["distinct_contents"] == s["distinct_contents"]
    assert s2["store_objects"] == s["store_objects"]


def test_demo_on_ci_postgres_and_rabbitmq_with_worker_processes(tmp_path: Path, pg_url: str) -> None:
    """The same pipeline on a real PostgreSQL server and RabbitMQ with separate `dramatiq` processes."""
    pika = pytest.importorskip("pika")
    try:
        pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F")).close()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"RabbitMQ not reachable on 127.0.0.1:5672: {exc}")
    env = _env(
        tmp_path,
        LIUHEN_DATABASE_URL=pg_url,
        LIUHEN_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/%2F",
        LIUHEN_TRANSCODER_QUEUE=f"liuhen.test.{os.getpid()}",
    )
    s = _run_demo(env)
    _check_summary(s)
    import psycopg

    with psycopg.connect(pg_url) as conn:
        (n,) = conn.execute("SELECT count(*) FROM files").fetchone()  # type: ignore[misc]
        assert n == s["catalog_rows"]
        workers = conn.execute("SELECT DISTINCT pid FROM transcode_jobs").fetchall()
    pids = {int(w[0]) for w in workers if w[0]}
    assert pids and os.getpid() not in pids, "derivatives must come from separate worker processes"


def test_ctrl_c_leaves_no_postgres_behind(open_tmp: Path) -> None:
    tmp_path = open_tmp
    env = _env(tmp_path)
    pgdata = tmp_path / "data" / "pgdata"
    proc = subprocess.Popen(
        [*LIUHEN, "demo", "--small", "--minutes", "0.1"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _postgres_procs(pgdata):
        time.sleep(0.2)
    assert _postgres_procs(pgdata), "embedded postgres never started"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130
    assert "stopped cleanly" in (proc.stderr.read() if proc.stderr else "")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _postgres_procs(pgdata):
        time.sleep(0.2)
    assert not _postgres_procs(pgdata), "postgres left running after Ctrl-C"


def test_second_process_reuses_running_embedded_server(open_tmp: Path) -> None:
    """Two processes on one data dir share one server; it stops when the last one exits."""
    from liuhen.embedded import start_postgres

    pgdata = open_tmp / "pg"
    code = (
        "import sys,time; from pathlib import Path; from liuhen.embedded import start_postgres;"
        f"start_postgres(Path({str(pgdata)!r})); print('up', flush=True); sys.stdin.readline()"
    )
    a = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert a.stdout is not None and a.stdout.readline().strip() == "up"
    first = {p.pid for p in _postgres_procs(pgdata)}
    b = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert b.stdout is not None and b.stdout.readline().strip() == "up"
    assert {p.pid for p in _postgres_procs(pgdata)} == first, "second process started its own server"
    assert a.stdin and b.stdin
    a.stdin.write("\n")
    a.stdin.flush()
    a.wait(30)
    assert _postgres_procs(pgdata), "server stopped while another process still uses it"
    b.stdin.write("\n")
    b.stdin.flush()
    b.wait(30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _postgres_procs(pgdata):
        time.sleep(0.2)
    assert not _postgres_procs(pgdata)
    del start_postgres
