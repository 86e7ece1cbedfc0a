"""Embedded PostgreSQL from the ``pgserver`` wheel (bundled PostgreSQL 16), data under the data dir.

Several ``liuhen`` processes share one server: pgserver keeps a list of the processes holding a
handle and the last one to exit stops the server (its atexit hook). Handles left by processes that
were killed are pruned before we attach, so a SIGKILLed process does not keep the server up forever.
SIGTERM is turned into a normal exit (``install_signal_handlers``) so atexit hooks run; Ctrl-C raises
KeyboardInterrupt, which also unwinds through atexit.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

from liuhen.core.errors import EmbeddedServiceError
from liuhen.core.process import pid_alive

log = logging.getLogger("liuhen.embedded")
DATABASE = "liuhen"
_server: Any = None


def _prune_dead_handles(pgdata: Path) -> None:
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = [p for p in pids if pid_alive(int(p))]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def start_postgres(pgdata: Path) -> str:
    """Start (or attach to) the embedded server; return a URL for the ``liuhen`` database."""
    global _server
    try:
        with warnings.catch_warnings():
            # pgserver's lock dir falls back to /tmp/runtime-UID when XDG_RUNTIME_DIR is unset: harmless.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise EmbeddedServiceError("the pgserver wheel is not installed") from exc
    pgdata = pgdata.resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    _prune_dead_handles(pgdata)
    try:
        _server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        logfile = pgdata / "log"
        tail = logfile.read_text(errors="replace")[-1500:] if logfile.exists() else ""
        raise EmbeddedServiceError(start_failure(pgdata, f"{exc}\n{tail}", _free_bytes(pgdata))) from exc
    out = _server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
    if "(1 row)" not in out:
        _server.psql(f"CREATE DATABASE {DATABASE};")
    return str(_server.get_uri(DATABASE))


NO_SPACE = "No space left on device"
LOW_SPACE = 64 << 20  # below this PostgreSQL cannot even write its startup WAL and pid file


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def start_failure(pgdata: Path, details: str, free: int | None) -> str:
    """The one line (plus the server's log) that says why the embedded server did not start and what to do."""
    head = f"embedded PostgreSQL failed to start in {pgdata}"
    if NO_SPACE in details or "ENOSPC" in details or (free is not None and free < LOW_SPACE):
        left = "unknown" if free is None else f"{free >> 20} MiB"
        return (
            f"{head}: {NO_SPACE} (free on that filesystem: {left}). Free space there (old exports, demo docks, "
            "other files) or move LIUHEN_DATA_DIR to a larger filesystem, then run the command again: nothing "
            f"stored is lost, PostgreSQL recovers from its WAL on the next start.\n{details}"
        )
    if "Permission denied" in details or "permission" in details.lower():
        return (
            f"{head}: permission denied. When run as root, every parent directory of the data dir must be "
            f"readable by the 'pgserver' system user.\n{details}"
        )
    return f"{head}: {details}"


def stop_postgres() -> None:
    """Release this process's handle (stops the server if it was the last one)."""
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None


def install_signal_handlers() -> None:
    """SIGTERM/SIGHUP → SystemExit, so atexit stops the embedded server."""

    def _exit(signum: int, _frame: object) -> None:
        sys.exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, _exit)
        except ValueError:  # not the main thread
            pass
