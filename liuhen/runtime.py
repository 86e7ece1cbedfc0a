"""Wiring: build the configured components (catalog, store) from ``Settings``.

Embedded defaults: pgserver PostgreSQL under the data dir, the local write-once store.
``LIUHEN_DATABASE_URL`` / ``LIUHEN_STORE`` select real servers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catalog.db import Catalog, connect
from liuhen.config import Settings, get_settings

if TYPE_CHECKING:
    from storage.base import ObjectStore


@dataclass
class Runtime:
    settings: Settings
    catalog: Catalog
    store: ObjectStore
    database_url: str
    embedded_db: bool = False
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._sequence_pending()
        self.catalog.close()
        if self.embedded_db:
            from liuhen.embedded import stop_postgres

            stop_postgres()


    def _sequence_pending(self) -> None:
        """Give every event this process recorded its log index before leaving (CLI commands record
        events in their transactions; without a running ``serve`` nothing else would sequence them)."""
        from api import readaudit
        from integrity import log as auditlog

        try:
            readaudit.seal(self.catalog)  # API reads journaled by this process, as one batch event
            auditlog.sequence(self.catalog)
        except Exception as exc:  # the events are committed (pending); the next sequencer run numbers them
            logging.getLogger("liuhen.runtime").warning("could not sequence pending audit events: %s", exc)


def database_url(settings: Settings) -> tuple[str, bool]:
    """The catalog URL and whether it is the embedded server (started now if needed)."""
    if settings.database_url:
        return settings.database_url, False
    from liuhen.embedded import start_postgres

    return start_postgres(settings.pgdata), True


def build_runtime(settings: Settings | None = None, *, migrate: bool = True, pool_size: int = 10) -> Runtime:
    settings = settings or get_settings()
    settings.root.mkdir(parents=True, exist_ok=True)
    url, embedded = database_url(settings)
    catalog = connect(url, migrate_first=migrate, max_size=pool_size)
    from storage.factory import open_store

    store = open_store(settings)
    return Runtime(settings=settings, catalog=catalog, store=store, database_url=url, embedded_db=embedded)


@contextmanager
def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[Runtime]:
    rt = build_runtime(settings, migrate=migrate)
    try:
        yield rt
    finally:
        rt.close()
