"""The PostgreSQL catalog: connection pool and ordered, recorded migrations.

Packages keep their queries next to the code they serve; this package holds only what all share.
"""

from liuhen.catalog.db import Catalog, connect

__all__ = ["Catalog", "connect"]
