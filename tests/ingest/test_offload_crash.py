"""Crash consistency: SIGKILL ``liuhen ingest`` at random points, re-run, check the invariants each time.

After every killed run: no files row without its object (nothing half-registered), no stored receipt
claiming more than the store and the log hold (I2/I3). After the final clean run: every source file
stored exactly once, one ingestion event per sighting, gapless log indices, every recorder SAFE TO WIPE.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liuhen.storage.errors import ObjectNotFound
from tests.ingest.helpers import make_recorder

pytestmark = pytest.mark.slow  # SIGKILL loop: ~80 s

POINTS = ["after_copy", "after_put", "after_tx", "after_sequence", "before_receipt", "after_receipt"]
RUNS = int(os.environ.get("LIUHEN_CRASH_RUNS", "26"))
MIN_KILLED = min(20, RUNS)


def _env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
    env.update(
        LIUHEN_DATA_DIR=str(settings.data_dir),
        LIUHEN_DATABASE_URL=settings.database_url,
        LIUHEN_STORE="local",
        LIUHEN_INGEST_PARALLELISM="3",
        LIUHEN_ACTOR="test:crash",
    )
    return env


def _check_consistent(rt) -> None:  # type: ignore[no-untyped-def]
    # every catalogued original is in the store with its digest (the row never precedes the object)
    for row in rt.catalog.all("SELECT sha256, size, storage_key FROM files"):
        info = rt.store.head(row["storage_key"])
        assert info.sha256 == row["sha256"] and info.size == row["size"]
    # a stored session_files row always points at a files row with an event in the log table
    bad = rt.catalog.all(
        "SELECT sf.id FROM session_files sf LEFT JOIN files f ON f.id = sf.file_id "
        "LEFT JOIN log_events e ON e.id = sf.event_id WHERE sf.status = 'stored' AND (f.id IS NULL OR e.id IS NULL)"
    )
    assert bad == []
    # no stored receipt claims more than the store and the log hold
    for s in rt.catalog.all("SELECT id, receipt, safe_to_wipe FROM ingest_sessions WHERE receipt IS NOT NULL"):
        for f in s["receipt"]["files"]:
            if f["status"] != "verified":
                continue
            try:
                info = rt.store.head(f["storage_key"])
            except ObjectNotFound:
                raise AssertionError(f"session {s['id']}: receipt claims {f['path']} but the store lacks it") from None
            assert info.sha256 == f["sha256"]
            ev = rt.catalog.one("SELECT idx FROM log_events WHERE id = %s", (f["event_id"],))
            assert ev is not None and ev["idx"] == f["log_index"]
        if s["safe_to_wipe"]:
            assert all(f["status"] in ("verified", "skipped") for f in s["receipt"]["files"])


def test_sigkill_at_random_points_then_rerun(runtime, settings, dock: Path) -> None:
    sources: list[Path] = []
    for i in range(3):
        sources += make_recorder(dock / f"port{i + 1:02d}", f"DSJ-C-{i:04d}", n=4, size=40_000 + 1000 * i)
    env = _env(settings)
    rng = random.Random(int(os.environ.get("LIUHEN_CRASH_SEED", "20261123")))
    killed = 0
    for run in range(RUNS):
        # the recorders keep recording between dockings: there is always new work to be killed in
        port = rng.randrange(3)
        sources += make_recorder(
            dock / f"port{port + 1:02d}", f"DSJ-C-{port:04d}", n=1, size=30_000 + run, seq0=10 + run
        )
        e = dict(env)
        mode = "point" if run % 3 else "timer"
        if mode == "point":
            point = rng.choice(POINTS)
            e["LIUHEN_INGEST_CRASH"] = (
                f"{point}:{1 if point.startswith(('before_r', 'after_r')) else rng.randint(1, 2)}"
            )
        p = subprocess.Popen(
            [sys.executable, "-m", "liuhen.cli", "ingest", str(dock), "--json"],
            env=e,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if mode == "timer":
            time.sleep(rng.uniform(0.2, 0.7))
            p.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=120)
        if p.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert p.returncode in (0, 1), err.decode()[-2000:]
        _check_consistent(runtime)
    assert killed >= MIN_KILLED, f"only {killed} of {RUNS} runs were actually killed"
    # a clean run finishes the job
    out = subprocess.run(
        [sys.executable, "-m", "liuhen.cli", "ingest", str(dock), "--json"], env=env, capture_output=True, timeout=120
    )
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    receipts = json.loads(out.stdout)
    assert len(receipts) == 3 and all(r["safe_to_wipe"] for r in receipts)
    _check_consistent(runtime)
    # no file lost, none stored twice
    want = {hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    rows = runtime.catalog.all("SELECT sha256 FROM files")
    assert sorted(r["sha256"] for r in rows) == sorted(want)
    assert {o.sha256 for o in runtime.store.list("sha256/")} == want
    # one ingestion event per sighting, and the log has no gaps
    ev = runtime.catalog.all("SELECT subject_sha256, count(*) AS n FROM log_events WHERE type = 'ingestion' GROUP BY 1")
    assert all(r["n"] == 1 for r in ev) and len(ev) == len(want)
    row = runtime.catalog.one("SELECT count(*) AS n, max(idx) AS m, count(idx) AS k FROM log_events")
    assert row["k"] == row["n"] and row["m"] == row["n"] - 1
    leftovers = [p.name for p in settings.staging_dir.iterdir()]
    assert leftovers == []
