"""An API node killed in the middle of a stream (a fault of the county shift change).

A slow player streams one large proxy from ``api1``; once it has some of the bytes, ``api1`` is SIGKILLed
(and restarted, as systemd would). The player resumes where it stopped, with ``Range: bytes=N-``, on
``api2`` — what nginx's upstream failover or the player's own retry does — and checks the SHA-256 of
everything it received against the derivative's. Neither node sends a byte before the stream's access
event is committed (I5): api1 records it, api2 finds it in the shared catalog (same playback session);
the events are counted.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from liuhen.api.auth import issue_token
from liuhen.catalog.db import Catalog
from liuhen.core.config import Settings
from liuhen.runtime import Runtime
from liuhen.storage.memory import MemoryStore

UNIT = "110101000000"
STEP = 256 << 10  # the slow player reads 256 KiB per tick
TICK_S = 0.05


def plant(admin_url: str, shared: Path, size_mb: int) -> dict[str, Any]:
    """A file with a ``size_mb`` proxy in the API nodes' derived dir, and a reviewer token.

    A benchmark artefact: a catalog row with no object in the store and no ingestion event (kind
    ``unknown``, already processed, so neither the shift's video counts nor the transcoder see it).
    """
    settings = Settings(data_dir=shared, database_url=admin_url, store="memory")
    derived = settings.derived_dir
    derived.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size_mb << 20)
    (derived / "failover-proxy.mp4").write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    catalog = Catalog(admin_url, max_size=2).open()
    try:
        f = catalog.one(
            "INSERT INTO files (sha256, size, media_kind, media_status, storage_key, unit_code) "
            "VALUES (%s, %s, 'unknown', 'ok', %s, %s) RETURNING id",
            (sha, len(body), f"sha256/{sha}", UNIT),
        )
        assert f is not None
        catalog.one(
            "INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) VALUES "
            "(%s, 'proxy', %s, %s, 'failover-proxy.mp4', 'video/mp4', '{}') RETURNING id",
            (f["id"], sha, len(body)),
        )
        rt = Runtime(settings=settings, catalog=catalog, store=MemoryStore(), database_url=admin_url)
        token, _ = issue_token(rt, user="viewer", role="reviewer", unit_code=UNIT, actor="benchmark")
    finally:
        catalog.close()
    return {"sha": sha, "size": len(body), "file_id": int(f["id"]), "token": token}


def _read(client: httpx.Client, url: str, start: int, h: Any, got: list[int], slow: bool) -> None:
    headers = {"Range": f"bytes={start}-"} if start else {}
    with client.stream("GET", url, headers=headers) as r:
        if r.status_code not in (200, 206):
            raise RuntimeError(f"{url}: HTTP {r.status_code}")
        for chunk in r.iter_raw(STEP):
            h.update(chunk)
            got[0] += len(chunk)
            if slow:
                time.sleep(TICK_S)


def api_killed_mid_stream(
    admin_url: str, shared: Path, nodes: tuple[str, str], kill: Callable[[], None], say: Callable[[str], None]
) -> dict[str, Any]:
    """Stream from ``nodes[0]``, ``kill()`` it once ≥ 1 MiB arrived, resume on ``nodes[1]``; the outcome."""
    p = plant(admin_url, shared, 64)
    path = f"/files/{p['sha']}/proxy?purpose=county%20failover%20test"
    h = hashlib.sha256()
    got = [0]
    failed: list[str] = []
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {p['token']}"}) as client:

        def first() -> None:
            try:
                _read(client, f"http://{nodes[0]}{path}", 0, h, got, slow=True)
            except httpx.HTTPError as exc:
                failed.append(type(exc).__name__)

        t = threading.Thread(target=first, daemon=True)
        t.start()
        deadline = time.monotonic() + 60
        while got[0] < (1 << 20) and t.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        at_kill = got[0]
        kill()
        t.join(60)
        before = got[0]
        say(f"fault: stream from {nodes[0]} cut at {before} of {p['size']} bytes ({failed or 'not cut'})")
        _read(client, f"http://{nodes[1]}{path}", before, h, got, slow=False)
    catalog = Catalog(admin_url, max_size=1).open()
    try:
        row = catalog.one(
            "SELECT count(*) AS n FROM access_events WHERE kind = 'stream' AND file_id = %s", (p["file_id"],)
        )
    finally:
        catalog.close()
    ok = got[0] == p["size"] and h.hexdigest() == p["sha"]
    say(f"stream resumed on {nodes[1]}: {got[0]} bytes, sha256 {'matches' if ok else 'DIFFERS'}")
    return {
        "size": p["size"],
        "bytes_at_kill": at_kill,
        "bytes_before_resume": before,
        "cut": bool(failed),
        "complete_and_intact": ok,
        "access_events": int(row["n"]) if row else 0,
    }
