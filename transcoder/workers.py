"""In-process transcoder workers (``liuhen demo`` / ``liuhen serve``): a dramatiq Worker in threads.

With no ``LIUHEN_BROKER_URL`` the broker is the StubBroker, so messages sent by ``service.enqueue``
in this process are handled here. With a real broker these threads consume from it like any worker.
"""

from __future__ import annotations

import time

import dramatiq

from liuhen.runtime import Runtime
from liuhen.transcoder import actors
from liuhen.transcoder.broker import setup_broker


class InProcessWorkers:
    def __init__(self, runtime: Runtime, threads: int | None = None) -> None:
        self.runtime = runtime
        self.threads = threads or runtime.settings.worker_threads
        self.broker = setup_broker(runtime.settings)

        self._actors = actors
        self.queues = (actors.QUEUE, actors.BACKFILL_QUEUE)
        self.worker: dramatiq.Worker | None = None

    def start(self) -> InProcessWorkers:
        self._actors.bind_runtime(self.runtime)
        self.worker = dramatiq.Worker(self.broker, worker_threads=self.threads, worker_timeout=100)
        self.worker.start()
        return self

    def join_idle(self, timeout: float | None = None) -> bool:
        """Wait until both queues are drained and in-flight work is done; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                for q in self.queues:
                    left = None if deadline is None else max(1, int((deadline - time.monotonic()) * 1000))
                    self.broker.join(q, timeout=left)
            except (TimeoutError, dramatiq.errors.QueueJoinTimeout):
                return False
            if self.worker is not None:
                self.worker.join()
            # a retry may have re-entered a queue while we waited on the other one
            if all(self._queue_empty(q) for q in self.queues):
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False

    def _queue_empty(self, q: str) -> bool:
        queues = getattr(self.broker, "queues", None)
        if not isinstance(queues, dict):
            return True
        return all(queues[name].unfinished_tasks == 0 for name in (q, f"{q}.DQ") if name in queues)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self._actors.bind_runtime(None)

    def __enter__(self) -> InProcessWorkers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
