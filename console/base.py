"""Small interfaces the console needs from lower layers."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

import psycopg


class Transactional(Protocol):
    """What the console needs of the catalog: a pooled transaction (commit on exit, rollback on error)."""

    def tx(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...
