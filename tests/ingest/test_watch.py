"""Many recorders at once, the dock watcher (docking/undocking by polling), and the CLI."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from liuhen.ingest.offload import ingest_path
from liuhen.ingest.receipts import VERIFIED
from liuhen.ingest.watch import DockWatcher
from liuhen.storage.errors import StoreUnavailable
from tests.ingest.helpers import make_recorder


class _Peak:
    """A progress sink that records how many recorders were being offloaded at the same time."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.bytes = 0
        self.lock = threading.Lock()

    def recorder_started(self, key, label, files, nbytes):  # type: ignore[no-untyped-def]
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.05)

    def advance(self, key, nbytes):  # type: ignore[no-untyped-def]
        with self.lock:
            self.bytes += nbytes

    def file_done(self, key, path, status):  # type: ignore[no-untyped-def]
        pass

    def recorder_finished(self, key, receipt):  # type: ignore[no-untyped-def]
        with self.lock:
            self.active -= 1


def test_twelve_recorders_concurrently(runtime, dock: Path) -> None:
    total = 0
    for i in range(12):
        files = make_recorder(dock / f"port{i + 1:02d}", f"DSJ-M-{i:04d}", f"1102{i:02d}", n=3, size=20_000 + i)
        total += sum(p.stat().st_size for p in files)
    peak = _Peak()
    rs = ingest_path(runtime, dock, actor="t", parallelism=6, progress=peak)
    assert len(rs) == 12 and all(r.safe_to_wipe for r in rs)
    assert len({r.session_id for r in rs}) == 12
    assert peak.peak > 1 and peak.bytes == total
    assert runtime.catalog.one("SELECT count(*) AS n FROM files")["n"] == 36
    assert runtime.catalog.one("SELECT count(DISTINCT device_serial) AS n FROM recorders")["n"] == 12
    rows = runtime.catalog.all("SELECT files_done, files_total, bytes_done, bytes_total FROM ingest_sessions")
    assert all(r["files_done"] == r["files_total"] == 3 and r["bytes_done"] == r["bytes_total"] for r in rows)


def test_watcher_notices_docking_and_undocking(runtime, dock: Path, tmp_path: Path) -> None:
    got = []
    stored: list[int] = []
    w = DockWatcher(runtime, [dock], on_stored=stored.append, interval=0.05, on_receipt=got.append)
    with w:
        make_recorder(tmp_path / "shelf" / "a", "DSJ-W-0001", n=2)
        shutil.move(str(tmp_path / "shelf" / "a"), dock / "port01")  # docks at once, as a mount appears
        assert w.wait_idle(30)
        assert len(got) == 1 and got[0].safe_to_wipe and len(stored) == 2
        make_recorder(tmp_path / "shelf" / "b", "DSJ-W-0002", n=1)
        shutil.move(str(tmp_path / "shelf" / "b"), dock / "port02")
        deadline = time.monotonic() + 30
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(got) == 2 and got[1].device["device_serial"] == "DSJ-W-0002"
        time.sleep(0.3)
        assert len(got) == 2  # a safe recorder is not offloaded again while it stays docked
        shutil.move(str(dock / "port01"), tmp_path / "shelf" / "a")  # undock
        deadline = time.monotonic() + 10
        while any(s["port"].endswith("port01") for s in w.state()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(s["port"].endswith("port01") for s in w.state())
        shutil.move(str(tmp_path / "shelf" / "a"), dock / "port01")  # re-dock: offloaded again, all resumed
        deadline = time.monotonic() + 30
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(got) == 3 and got[2].safe_to_wipe and all(f.resumed for f in got[2].files)
    assert len(stored) == 3


def test_cli_ingest_json_sessions_and_receipt(settings, dock: Path, monkeypatch) -> None:
    from liuhen.cli import app

    for k, v in {
        "LIUHEN_DATA_DIR": str(settings.data_dir),
        "LIUHEN_DATABASE_URL": settings.database_url,
        "LIUHEN_STORE": "local",
        "LIUHEN_ACTOR": "test:cli",
    }.items():
        monkeypatch.setenv(k, v)
    from liuhen.core.config import get_settings

    get_settings.cache_clear()
    make_recorder(dock / "port01", "DSJ-CLI-0001", n=2)
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(dock), "--json"])
    assert res.exit_code == 0, res.output
    receipts = json.loads(res.stdout)
    assert receipts[0]["safe_to_wipe"] and all(f["status"] == VERIFIED for f in receipts[0]["files"])
    assert receipts[0]["actor"] == "test:cli"
    sid = receipts[0]["session_id"]
    res = runner.invoke(app, ["dock", "sessions", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["id"] == sid
    res = runner.invoke(app, ["receipt", str(sid), "--json", "--recheck"])
    assert res.exit_code == 0 and json.loads(res.stdout)["safe_to_wipe"] is True
    res = runner.invoke(app, ["receipt", str(sid)])
    assert res.exit_code == 0 and "SAFE TO WIPE" in res.stdout
    # a recorder with a rejected entry: exit status 1 and the reason printed
    (dock / "port01" / "DCIM" / "100MEDIA" / "x.MP4").symlink_to("/etc/passwd")
    res = runner.invoke(app, ["ingest", str(dock / "port01")])
    assert res.exit_code == 1 and "symlink_outside" in res.stdout
    get_settings.cache_clear()


def test_a_station_that_lost_the_store_retries_within_seconds_and_gets_safe(runtime, dock: Path, monkeypatch) -> None:
    """The store is unreachable during the first try: NOT SAFE TO WIPE naming the store; the watcher
    tries again after ``retry_first_s`` (not ``retry_s``) and the recorder becomes SAFE TO WIPE."""
    real_put = runtime.store.put
    calls: list[str] = []

    def put(key, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(key)
        if len(calls) == 1:
            raise StoreUnavailable("store unreachable: connection refused")
        return real_put(key, *a, **kw)

    monkeypatch.setattr(runtime.store, "put", put)
    got: list = []
    make_recorder(dock / "port01", "DSJ-R-0001", n=1)
    with DockWatcher(runtime, [dock], interval=0.05, retry_s=600, retry_first_s=0.5, on_receipt=got.append):
        deadline = time.monotonic() + 30
        while not (got and got[-1].safe_to_wipe) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(got) == 2, [r.reasons for r in got]
    assert not got[0].safe_to_wipe and "store unreachable" in " ".join(got[0].reasons)
    assert got[1].safe_to_wipe
