"""Connection pool and migrations (psycopg 3).

Migrations are the files ``catalog/migrations/NNNN_name.sql``, applied in order, each in its own
transaction under an advisory lock, and recorded with their SHA-256 in ``schema_migrations``.
Re-running is a no-op; an applied file whose text later changed is reported, not re-applied.

Number ranges by owner: 0001–0099 core, 0100 integrity, 0200 ingest, 0300 storage,
0400 transcoder, 0500 api, 0600 export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from liuhen.catalog.errors import CatalogUnavailable, MigrationError

MIGRATION_LOCK = 0x4C49_5548  # "LIUH": advisory lock key serialising migration runs


def shipped_migrations() -> list[tuple[str, str]]:
    """(version_name, sql) for every shipped migration, in order."""
    pkg = resources.files(__package__ or "liuhen.catalog") / "migrations"
    out = []
    for entry in sorted(pkg.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            out.append((entry.name[:-4], entry.read_text(encoding="utf-8")))
    return out


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply every shipped migration not yet applied; return the names applied now."""
    applied_now: list[str] = []
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            # only when missing: a component role (1000_roles) may not CREATE, even "IF NOT EXISTS"
            cur.execute("SELECT to_regclass('schema_migrations') IS NULL")
            if cur.fetchone()[0]:  # type: ignore[index]
                cur.execute(
                    """CREATE TABLE schema_migrations (
                           version text PRIMARY KEY,
                           sha256 text NOT NULL,
                           applied_at timestamptz NOT NULL DEFAULT now())"""
                )
            cur.execute("SELECT version, sha256 FROM schema_migrations")
            done = dict(cur.fetchall())
            for version, sql in shipped_migrations():
                digest = hashlib.sha256(sql.encode()).hexdigest()
                if version in done:
                    if done[version] != digest:
                        raise MigrationError(
                            f"migration {version} changed after it was applied "
                            f"(recorded sha256 {done[version]}, shipped {digest})"
                        )
                    continue
                try:
                    with conn.transaction():
                        cur.execute(sql.encode())
                        cur.execute(
                            "INSERT INTO schema_migrations (version, sha256) VALUES (%s, %s)",
                            (version, digest),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {version} failed: {exc}") from exc
                applied_now.append(version)
        finally:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied_now


class Catalog:
    """A pool of connections to the catalog database.

    ``tx()`` yields a connection inside a transaction (committed on success, rolled back on error);
    rows come back as dicts.
    """

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0) -> None:
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"row_factory": dict_row},
            open=False,
            name="liuhen-catalog",
        )

    def open(self, wait_s: float = 15.0) -> Catalog:
        try:
            self.pool.open(wait=True, timeout=wait_s)
        except PoolTimeout as exc:
            raise CatalogUnavailable(f"cannot connect to PostgreSQL at {redact(self.url)}: {exc}") from exc
        return self

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def tx(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise CatalogUnavailable(f"PostgreSQL unavailable: {exc}") from exc

    def migrate(self) -> list[str]:
        try:
            with psycopg.connect(self.url) as conn:
                return migrate(conn)
        except psycopg.OperationalError as exc:
            raise CatalogUnavailable(f"cannot connect to PostgreSQL at {redact(self.url)}: {exc}") from exc

    def one(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        with self.tx() as conn:
            return conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self.tx() as conn:
            return conn.execute(sql, params).fetchall()


def with_dbname(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (same server, user and options)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v is not None})


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v is not None})


def connect(url: str, *, migrate_first: bool = True, max_size: int = 10) -> Catalog:
    """Open a pool on ``url`` (after applying migrations unless told not to)."""
    cat = Catalog(url, max_size=max_size)
    if migrate_first:
        cat.migrate()
    return cat.open()
