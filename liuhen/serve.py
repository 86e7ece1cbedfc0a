"""``liuhen serve``: the API, the dock watcher, the transcoder workers and the periodic jobs
(checkpoint publication, disposal of expired originals) on the configured components."""

from __future__ import annotations

import logging
import threading
from typing import Any

from liuhen.config import get_settings
from liuhen.runtime import Runtime, build_runtime

log = logging.getLogger("liuhen.serve")


def serve(*, host: str | None, port: int | None, watch: bool = True, workers: bool = True) -> None:
    import uvicorn

    settings = get_settings()
    rt = build_runtime(settings)
    stoppers: list[Any] = []
    try:
        _check_store(rt)
        from transcoder import service as tsvc
        from transcoder.broker import setup_broker

        setup_broker(settings)
        if workers and not settings.broker_url:
            from transcoder.workers import InProcessWorkers

            w = InProcessWorkers(rt, threads=settings.worker_threads)
            w.start()
            stoppers.append(w.stop)
        if settings.broker_url:
            log.warning("a broker is configured: run `dramatiq transcoder.worker_main` processes to transcode")
        tsvc.enqueue_pending(rt)
        if watch and settings.docks:
            from ingest.watch import DockWatcher

            watcher = DockWatcher(rt, settings.docks, on_stored=tsvc.enqueue)
            watcher.start()
            stoppers.append(watcher.stop)
        stop = threading.Event()
        for thread in _background_loops(rt, stop):
            thread.start()
        stoppers.append(stop.set)
        from api.app import create_app

        app = create_app(rt)
        uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
    finally:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:
                log.exception("error while stopping")
        rt.close()


def _check_store(rt: Runtime) -> None:
    from storage.check import ensure_conformant

    ensure_conformant(rt.store, rt.settings)


def _background_loops(rt: Runtime, stop: threading.Event) -> list[threading.Thread]:
    """The log sequencer (safety net for pending events), sealing of the API read journal into the log,
    checkpoint publication, scheduled fixity audits and the disposal job, each in a daemon thread
    until ``stop`` is set."""
    from api import readaudit
    from integrity import checkpoint, fixity
    from integrity import log as auditlog

    loops: list[tuple[str, Any]] = [
        ("sequencer", lambda: auditlog.run_sequencer(rt.catalog, stop)),
        ("read-audit", lambda: _every(stop, 30.0, lambda: readaudit.seal(rt.catalog))),
        ("checkpoints", lambda: checkpoint.run_publisher(rt.catalog, rt.settings, stop)),
        ("fixity", lambda: fixity.run_scheduler(rt.catalog, rt.store, stop)),
    ]
    try:
        from storage.retention import dispose_expired

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
