"""Wiring: build the configured components (catalog, store) from ``Settings`` into a ``Runtime``.

Embedded defaults: pgserver PostgreSQL under the data dir, the local write-once store.
``LIUHEN_DATABASE_URL`` / ``LIUHEN_STORE`` select real servers instead. The shell registers the
close hooks here, so lower layers never reach up to the journal or the log sequencer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from liuhen.cases import readaudit
from liuhen.cases import service as cases_service
from liuhen.catalog.db import connect
from liuhen.catalog.errors import CatalogUnavailable
from liuhen.core.config import Settings, get_settings
from liuhen.core.retry import retry_delay
from liuhen.embedded import start_postgres, stop_postgres
from liuhen.integrity import log as auditlog
from liuhen.publication import register as publication
from liuhen.runtime import Runtime
from liuhen.storage.factory import open_store

log = logging.getLogger("liuhen.wiring")

# A case entering 决定 opens its publication record (公示), in the stage-change transaction.
if publication.on_stage_change not in cases_service.STAGE_HOOKS:
    cases_service.STAGE_HOOKS.append(publication.on_stage_change)


def sequence_pending(rt: Runtime) -> None:
    """Give every event this process recorded its log index before leaving (CLI commands record
    events in their transactions; without a running ``serve`` nothing else would sequence them)."""
    try:
        readaudit.seal(rt.catalog)  # API reads journaled by this process, as one batch event
        auditlog.sequence(rt.catalog)
    except Exception as exc:  # the events are committed (pending); the next sequencer run numbers them
        log.warning("could not sequence pending audit events: %s", exc)


def _stop_embedded(rt: Runtime) -> None:
    stop_postgres()


def database_url(settings: Settings) -> tuple[str, bool]:
    """The catalog URL and whether it is the embedded server (started now if needed)."""
    if settings.database_url:
        return settings.database_url, False
    return start_postgres(settings.pgdata), True


def build_runtime(settings: Settings | None = None, *, migrate: bool = True, pool_size: int = 10) -> Runtime:
    settings = settings or get_settings()
    settings.root.mkdir(parents=True, exist_ok=True)
    url, embedded = database_url(settings)
    catalog = connect(url, migrate_first=migrate, max_size=pool_size)
    store = open_store(settings)
    rt = Runtime(settings=settings, catalog=catalog, store=store, database_url=url, embedded_db=embedded)
    rt.before_close.append(sequence_pending)
    if embedded:
        rt.after_close.append(_stop_embedded)
    return rt


def build_runtime_waiting(
    settings: Settings | None = None,
    *,
    migrate: bool = True,
    say: Callable[[str], None] = log.warning,
    sleep: Callable[[float], None] = time.sleep,
) -> Runtime:
    """``build_runtime``, trying again while the catalog cannot be reached (1 s, doubling, at most every
    30 s), saying why each time: a daemon (a dock station) started during a database outage waits for
    it instead of exiting."""
    attempts = 0
    while True:
        try:
            return build_runtime(settings, migrate=migrate)
        except CatalogUnavailable as exc:
            attempts += 1
            delay = retry_delay(attempts, 1.0, 30.0)
            say(f"{exc}; trying again in {delay:.0f} s")
            sleep(delay)


@contextmanager
def open_runtime(settings: Settings | None = None, *, migrate: bool = True, wait: bool = False) -> Iterator[Runtime]:
    """The configured runtime, closed on exit; ``wait``: wait for an unreachable catalog (daemons)."""
    rt = build_runtime_waiting(settings, migrate=migrate) if wait else build_runtime(settings, migrate=migrate)
    try:
        yield rt
    finally:
        rt.close()
