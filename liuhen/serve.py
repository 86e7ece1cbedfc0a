"""``liuhen serve``: the API, the dock watcher, the transcoder workers and the periodic jobs
(checkpoint publication, disposal of expired originals) on the configured components."""

from __future__ import annotations

import logging
import threading
from typing import Any

from liuhen.config import get_settings
from liuhen.runtime import Runtime, build_runtime

log = logging.getLogger("liuhen.serve")


class Periodic(threading.Thread):
    """Run ``fn`` every ``interval`` seconds until stopped; errors are logged, never fatal."""

    def __init__(self, name: str, interval: float, fn: Any) -> None:
        super().__init__(name=name, daemon=True)
        self.interval, self.fn = interval, fn
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.fn()
            except Exception:
                log.exception("periodic job %s failed", self.name)

    def stop(self) -> None:
        self.stopped.set()


def serve(*, host: str | None, port: int | None, watch: bool = True, workers: bool = True) -> None:
    import uvicorn

    settings = get_settings()
    rt = build_runtime(settings)
    stoppers: list[Any] = []
    try:
        _check_store(rt)
        from transcoder.broker import setup_broker

        from transcoder import service as tsvc

        setup_broker(settings)
        if workers and not settings.broker_url:
            from transcoder.workers import InProcessWorkers

            w = InProcessWorkers(rt, threads=settings.worker_threads)
            w.start()
            stoppers.append(w.stop)
        if settings.broker_url:
            log.warning("broker %s configured: run `dramatiq transcoder.worker_main` processes", settings.broker_url)
        tsvc.enqueue_pending(rt)
        if watch and settings.docks:
            from ingest.watch import DockWatcher

            watcher = DockWatcher(rt, settings.docks, on_stored=tsvc.enqueue)
            watcher.start()
            stoppers.append(watcher.stop)
        for job in _periodic_jobs(rt):
            job.start()
            stoppers.append(job.stop)
        from api.app import create_app

        app = create_app(rt)
        uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
    finally:
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception:
                log.exception("error while stopping")
        rt.close()


def _check_store(rt: Runtime) -> None:
    from storage.check import ensure_conformant

    ensure_conformant(rt.store, rt.settings)


def _periodic_jobs(rt: Runtime) -> list[Periodic]:
    from integrity import checkpoint

    jobs = [
        Periodic(
            "checkpoint", rt.settings.checkpoint_interval_s, lambda: checkpoint.publish(rt.catalog, rt.settings)
        )
    ]
    try:
        from storage.retention import dispose_expired

        jobs.append(
            Periodic("disposal", 3600.0, lambda: dispose_expired(rt.catalog, rt.store, actor="system:disposal"))
        )
    except ImportError:
        pass
    return jobs
