from __future__ import annotations

from liuhen.core.errors import LiuhenError


class CatalogError(LiuhenError):
    status = 503
    title = "Catalog error"


class CatalogUnavailable(CatalogError):
    """The database cannot be reached (down, wrong URL, network)."""


class MigrationError(CatalogError):
    """A migration failed or the applied history does not match the shipped files."""
