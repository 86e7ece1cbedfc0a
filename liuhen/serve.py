"""``liuhen serve``: the API, the web console (``/``), the dock watcher, the transcoder workers and the periodic jobs
(checkpoint publication, disposal of expired originals) on the configured components."""

from __future__ import annotations

import logging
import threading
from typing import Any

from liuhen.api.app import create_app
from liuhen.cases import readaudit
from liuhen.cases.retention import dispose_expired
from liuhen.console.app import mount as mount_console
from liuhen.core.config import get_settings
from liuhen.ingest.watch import DockWatcher
from liuhen.integrity import checkpoint, fixity
from liuhen.integrity import log as auditlog
from liuhen.runtime import Runtime
from liuhen.storage.check import ensure_conformant
from liuhen.transcoder import jobs as tsvc
from liuhen.transcoder.broker import setup_broker
from liuhen.transcoder.workers import InProcessWorkers
from liuhen.wiring import build_runtime

log = logging.getLogger("liuhen.serve")


def serve(*, host: str | None, port: int | None, watch: bool = True, workers: bool = True) -> None:
    import uvicorn

    settings = get_settings()
    rt = build_runtime(settings)
    stoppers: list[Any] = []
    try:
        _check_store(rt)

        setup_broker(settings)
        if workers and not settings.broker_url:

            w = InProcessWorkers(rt, threads=settings.worker_threads)
            w.start()
            stoppers.append(w.stop)
        if settings.broker_url:
            log.warning("a broker is configured: run `dramatiq liuhen.worker` processes to transcode")
        tsvc.enqueue_pending(rt)
        if watch and settings.docks:

            watcher = DockWatcher(rt, settings.docks, on_stored=tsvc.enqueue)
            watcher.start()
            stoppers.append(watcher.stop)
        stop = threading.Event()
        for thread in _background_loops(rt, stop):
            thread.start()
        stoppers.append(stop.set)

        app = create_app(rt)
        mount_console(app, rt)  # the web console under /ui; GET / and /login lead to it
        uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
    finally:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:
                log.exception("error while stopping")
        rt.close()


def _check_store(rt: Runtime) -> None:

    ensure_conformant(rt.store, rt.settings)


def _background_loops(rt: Runtime, stop: threading.Event) -> list[threading.Thread]:
    """The log sequencer (safety net for pending events), sealing of the API read journal into the log,
    checkpoint publication, scheduled fixity audits and the disposal job, each in a daemon thread
    until ``stop`` is set."""

    loops: list[tuple[str, Any]] = [
        ("sequencer", lambda: auditlog.run_sequencer(rt.catalog, stop)),
        ("read-audit", lambda: _every(stop, 30.0, lambda: readaudit.seal(rt.catalog))),
        ("checkpoints", lambda: checkpoint.run_publisher(rt.catalog, rt.settings, stop)),
        ("fixity", lambda: fixity.run_scheduler(rt.catalog, rt.store, stop)),
    ]
    try:

        loops.append(("disposal", lambda: _every(stop, 3600.0, lambda: dispose_expired(
            rt.catalog, rt.store, actor="system:disposal"))))
    except ImportError:  # pragma: no cover - storage without a disposal job
        pass
    return [threading.Thread(target=fn, name=f"liuhen-{name}", daemon=True) for name, fn in loops]


def _every(stop: threading.Event, interval: float, fn: Any) -> None:
    while not stop.wait(interval):
        try:
            fn()
        except Exception:
            log.exception("periodic job failed; retrying next interval")
