"""The catalog's connection pool: an unreachable server is a clear error, and nothing keeps running."""

from __future__ import annotations

import socket

import pytest

from liuhen.catalog.db import Catalog
from liuhen.catalog.errors import CatalogUnavailable


def test_a_pool_that_cannot_connect_says_where_and_stops_trying() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cat = Catalog(f"postgresql://postgres@127.0.0.1:{port}/liuhen", max_size=2)
    with pytest.raises(CatalogUnavailable, match=f"cannot connect to PostgreSQL at .*port={port}"):
        cat.open(wait_s=0.5)
    assert cat.pool.closed, "the failed pool's workers would go on connecting in the background"
