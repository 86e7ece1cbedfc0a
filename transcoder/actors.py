"""dramatiq actors: thin wrappers over ``service.process_file``.

Two actors on two queues share the one function: ``transcode`` (ingest path, priority 0) and
``transcode_backfill`` (sweeps, priority 50 — a worker serves prefetched ingest work first).
Retries with exponential backoff apply to infrastructure errors only (media errors are recorded on
the file and end the message); each message has a time limit; re-delivery is harmless (idempotent).
Queue names come from ``LIUHEN_TRANSCODER_QUEUE`` (default ``liuhen.transcode``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from liuhen.runtime import Runtime
from liuhen.transcoder.broker import ensure_broker
from liuhen.transcoder.errors import TranscodeFileNotFound
from liuhen.transcoder.service import process_file
from liuhen.transcoder.settings import transcoder_settings

log = logging.getLogger(__name__)
ensure_broker()
_ts = transcoder_settings()
QUEUE = _ts.queue
BACKFILL_QUEUE = f"{_ts.queue}.backfill"
# Middleware options (Retries, TimeLimit); dramatiq types them as **options: Any.
_OPTIONS: dict[str, Any] = {
    "max_retries": _ts.max_retries,
    "min_backoff": _ts.min_backoff_ms,
    "max_backoff": _ts.max_backoff_ms,
    "time_limit": int(_ts.time_limit_s * 1000),
    "throws": (TranscodeFileNotFound,),
}

_runtime: Runtime | None = None
_runtime_factory: Callable[[], Runtime] | None = None
_runtime_lock = threading.Lock()


def set_runtime_factory(factory: Callable[[], Runtime]) -> None:
    """How a worker process builds its Runtime on its first message (registered by the shell's worker entry)."""
    global _runtime_factory
    _runtime_factory = factory


def bind_runtime(runtime: Runtime | None) -> None:
    """Make in-process workers use ``runtime`` (worker processes build their own from env)."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime


def current_runtime() -> Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            if _runtime_factory is None:
                raise RuntimeError("no Runtime bound: start workers with `dramatiq liuhen.worker` or bind_runtime()")
            _runtime = _runtime_factory()
        return _runtime


def _handle(file_id: int) -> None:
    msg = CurrentMessage.get_current_message()
    try:
        result = process_file(current_runtime(), int(file_id), message_id=msg.message_id if msg else None)
    except TranscodeFileNotFound:
        log.warning("transcode: file %s does not exist; message dropped", file_id)
        raise
    log.info("transcode file %s: %s (%d derivatives new)", file_id, result.status, result.created)


@dramatiq.actor(actor_name="liuhen_transcode", queue_name=QUEUE, priority=0, **_OPTIONS)
def transcode(file_id: int) -> None:
    _handle(file_id)


@dramatiq.actor(actor_name="liuhen_transcode_backfill", queue_name=BACKFILL_QUEUE, priority=50, **_OPTIONS)
def transcode_backfill(file_id: int) -> None:
    _handle(file_id)
