"""``liuhen serve`` for real: API + dock watcher + workers + background loops, as one process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

LIUHEN = [sys.executable, "-m", "liuhen.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_ingests_a_docked_recorder_transcodes_and_answers_the_api(tmp_path: Path, pg_url: str) -> None:
    from liuhen.simulate import simulate_dock

    dock = tmp_path / "dock"
    dock.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
    env.update(
        LIUHEN_DATA_DIR=str(tmp_path / "data"),
        LIUHEN_DATABASE_URL=pg_url,
        LIUHEN_DOCKS=json.dumps([str(dock)]),
        LIUHEN_CHECKPOINT_INTERVAL_S="1",
    )
    tok = subprocess.run(
        [*LIUHEN, "token", "issue", "--user", "sup1", "--role", "supervisor", "--json"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    token = json.loads(tok.stdout)["token"]
    port = _free_port()
    server = subprocess.Popen([*LIUHEN, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, f"serve exited early: {server.stderr.read() if server.stderr else ''}"
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.3)
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/ingest/sessions", timeout=5).status_code == 401  # anonymous refused

        # Dock a recorder: build it beside the dock, then move it in (as a mount appears at once).
        staging = tmp_path / "staging"
        rec = simulate_dock(staging, recorders=1, minutes=0.05, width=320, height=240, bitrate="300k",
                            clip_seconds=2.0)[0]
        rec.port.rename(dock / "port07")

        deadline = time.monotonic() + 120
        sessions: list[dict] = []  # type: ignore[type-arg]
        while time.monotonic() < deadline:
            r = httpx.get(f"{base}/ingest/sessions", headers=auth, timeout=5)
            assert r.status_code == 200, r.text
            sessions = [s for s in r.json() if s["status"] != "running"]
            if sessions:
                break
            time.sleep(0.5)
        assert sessions, "the docked recorder was never offloaded"
        assert sessions[0]["safe_to_wipe"] is True, sessions[0]
        assert sessions[0]["device_serial"] == rec.serial

        # the in-process workers transcode what was ingested; the checkpoint loop publishes
        deadline = time.monotonic() + 120
        with psycopg.connect(pg_url) as conn:
            while time.monotonic() < deadline:
                (pending,) = conn.execute("SELECT count(*) FROM files WHERE media_status = 'pending'").fetchone()  # type: ignore[misc]
                (nfiles,) = conn.execute("SELECT count(*) FROM files").fetchone()  # type: ignore[misc]
                if nfiles == len(rec.files) and pending == 0:
                    break
                time.sleep(0.5)
            assert (nfiles, pending) == (len(rec.files), 0)
            (derived,) = conn.execute("SELECT count(*) FROM derivatives").fetchone()  # type: ignore[misc]
            assert derived >= len(rec.files)
        cp = httpx.get(f"{base}/audit/checkpoint", headers=auth, timeout=5)
        assert cp.status_code == 200, cp.text
        assert cp.json()["size"] > 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    # every authorised API read was journaled, and sealed into the audit log by the time serve exited
    with psycopg.connect(pg_url) as conn:
        (reads, unsealed) = conn.execute(  # type: ignore[misc]
            "SELECT count(*), count(*) FILTER (WHERE sealed_event IS NULL) FROM read_journal"
        ).fetchone()
        (batches,) = conn.execute(  # type: ignore[misc]
            "SELECT count(*) FROM log_events WHERE type = 'access.read_batch' AND idx IS NOT NULL"
        ).fetchone()
    assert reads >= 2 and unsealed == 0 and batches >= 1
