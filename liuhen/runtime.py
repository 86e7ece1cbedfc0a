"""The plain Runtime every service receives: settings, the catalog pool and the object store.

It builds nothing and knows no higher layer. The application shell (``liuhen.wiring``) builds it and
registers what must happen on close (sealing the read journal, sequencing pending audit events,
stopping an embedded PostgreSQL) as hooks, so this layer never imports the layers that need them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from liuhen.catalog.db import Catalog
from liuhen.core.config import Settings
from liuhen.storage.base import ObjectStore

log = logging.getLogger("liuhen.runtime")

CloseHook = Callable[["Runtime"], None]


@dataclass
class Runtime:
    settings: Settings
    catalog: Catalog
    store: ObjectStore
    database_url: str
    embedded_db: bool = False
    before_close: list[CloseHook] = field(default_factory=list, repr=False)
    after_close: list[CloseHook] = field(default_factory=list, repr=False)
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Run the registered hooks (a failing hook is logged, never skips the rest), then close the pool."""
        if self._closed:
            return
        self._closed = True
        self._run(self.before_close)
        self.catalog.close()
        self._run(self.after_close)

    def _run(self, hooks: list[CloseHook]) -> None:
        for hook in hooks:
            try:
                hook(self)
            except Exception as exc:  # a close hook must not keep the others from running
                log.warning("close hook %s failed: %s", getattr(hook, "__name__", hook), exc)
