"""Watch dock directories: notice recorders docking and undocking (by polling), offload them concurrently.

A port counts as docked once it looks like a recorder (identity file or ``DCIM``) in two polls in a
row (so a recorder still mounting is not offloaded half-visible). Each docked recorder is offloaded
once; if its receipt is not SAFE TO WIPE it is tried again while it stays docked — first after
``retry_first_s``, then twice as long each time up to ``retry_s`` (``retry_delay``), so a short store or
database outage costs seconds, a long one costs no more than one try every ``retry_s`` (failed files are
retried; stored ones are resumed, not copied again). Undocking forgets the port;
docking again (or a different identity on the port) starts a new offload.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.core.retry import retry_delay
from liuhen.core.timefmt import utcnow
from liuhen.ingest.copy import check_digests, clean_orphans
from liuhen.ingest.layout import IDENTITY_FILE, is_recorder
from liuhen.ingest.offload import offload_recorder
from liuhen.ingest.progress import ProgressSink
from liuhen.ingest.receipts import Receipt
from liuhen.runtime import Runtime

log = logging.getLogger("liuhen.ingest.watch")


@dataclass
class PortState:
    path: Path
    fingerprint: tuple[Any, ...]
    docked_at: datetime
    seen: int = 1
    future: Future[Receipt] | None = None
    receipt: Receipt | None = None
    last_try: float = 0.0  # when the last try started, then when it ended (monotonic)
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        r = self.receipt
        return {
            "port": str(self.path),
            "docked_at": self.docked_at.isoformat(),
            "running": bool(self.future and not self.future.done()),
            "attempts": self.attempts,
            "session_id": r.session_id if r else None,
            "safe_to_wipe": r.safe_to_wipe if r else False,
            "reasons": r.reasons if r else [],
        }


def _fingerprint(port: Path) -> tuple[Any, ...]:
    """Changes when a different recorder (or the same one re-docked) appears on the port."""
    try:
        st = (port / IDENTITY_FILE).stat()
        ident = (st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        ident = None
    try:
        pst = port.stat()
        return (pst.st_dev, pst.st_ino, ident)
    except OSError:
        return (None, None, ident)


class DockWatcher:
    """Poll ``docks``; offload docked recorders ``parallelism`` at a time. ``start()``/``stop()``."""

    def __init__(
        self,
        runtime: Runtime,
        docks: list[Path] | list[str],
        on_stored: Callable[[int], None] | None = None,
        *,
        parallelism: int | None = None,
        interval: float = 2.0,
        retry_s: float = 30.0,
        retry_first_s: float = 2.0,
        on_receipt: Callable[[Receipt], None] | None = None,
        progress: ProgressSink | None = None,
        actor: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.docks = [Path(d) for d in docks]
        self.on_stored = on_stored
        self.on_receipt = on_receipt
        self.progress = progress
        self.interval = interval
        self.retry_s = retry_s
        self.retry_first_s = min(retry_first_s, retry_s)
        self.actor = actor or f"dock:{runtime.settings.actor_name()}"
        self.parallelism = parallelism or runtime.settings.ingest_parallelism
        self.ports: dict[Path, PortState] = {}
        self.receipts: list[Receipt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> DockWatcher:
        if self._thread is not None:
            return self

        check_digests(self.runtime.settings.digests)
        self.runtime.settings.staging_dir.mkdir(parents=True, exist_ok=True)
        clean_orphans(self.runtime.settings.staging_dir)
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="dock-offload")
        self._thread = threading.Thread(target=self._run, name="dock-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=wait)
            self._pool = None

    def __enter__(self) -> DockWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state for the API/CLI -----------------------------------------------------------------------
    def state(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.as_dict() for p in self.ports.values()]

    def idle(self) -> bool:
        with self._lock:
            return all(p.future is None or p.future.done() for p in self.ports.values())

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Until every docked recorder has been offloaded at least once and nothing runs."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                done = all(p.receipt is not None and (p.future is None or p.future.done()) for p in self.ports.values())
            if done and self.ports:
                return True
            time.sleep(0.05)
        return False

    # -- polling -----------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("dock poll failed")
            self._stop.wait(self.interval)

    def poll(self) -> None:
        """One pass over the docks: notice docking/undocking; submit offloads that are due."""
        present: dict[Path, tuple[Any, ...]] = {}
        for dock in self.docks:
            try:
                entries = sorted(p for p in dock.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            for p in entries:
                try:
                    if is_recorder(p):
                        present[p] = _fingerprint(p)
                except OSError:
                    continue
        now = time.monotonic()
        with self._lock:
            for p, old in list(self.ports.items()):
                if p not in present or present[p] != old.fingerprint:
                    log.info("undocked: %s", p)
                    del self.ports[p]
            for p, fp in present.items():
                st: PortState | None = self.ports.get(p)
                if st is None:
                    log.info("docked: %s", p)
                    self.ports[p] = PortState(p, fp, utcnow())
                    continue
                st.seen += 1
                if st.future is not None and not st.future.done():
                    continue
                wait = retry_delay(st.attempts, self.retry_first_s, self.retry_s)
                due = st.receipt is None or (not st.receipt.safe_to_wipe and now - st.last_try >= wait)
                if due and st.seen >= 2 and self._pool is not None and not self._stop.is_set():
                    st.last_try, st.attempts = now, st.attempts + 1
                    st.future = self._pool.submit(self._offload, st)

    def _offload(self, st: PortState) -> Receipt:

        r = offload_recorder(
            self.runtime,
            st.path,
            actor=self.actor,
            on_stored=self.on_stored,
            progress=self.progress,
            docked_at=st.docked_at,
        )
        with self._lock:
            st.receipt, st.last_try = r, time.monotonic()  # the next try waits from this one's end
            self.receipts.append(r)
        log.info("%s: %s", st.path, "SAFE TO WIPE" if r.safe_to_wipe else "not safe: " + "; ".join(r.reasons[:3]))
        if self.on_receipt is not None:
            try:
                self.on_receipt(r)
            except Exception:
                log.exception("on_receipt failed")
        return r
