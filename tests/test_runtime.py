"""Runtime wiring: events recorded by a CLI-style process are sequenced before it exits; a daemon waits
for its database."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg

from liuhen.catalog.db import with_dbname
from liuhen.core.config import Settings
from liuhen.integrity import log as auditlog
from liuhen.integrity.events import Event
from liuhen.wiring import build_runtime, build_runtime_waiting


def test_closing_the_runtime_sequences_pending_events(settings: Settings) -> None:
    rt = build_runtime(settings)
    with rt.catalog.tx() as conn:
        event_id = auditlog.record(conn, Event("case.create", "cli:test", {"case": "X-1"}))
    assert auditlog.index_of(rt.catalog, event_id) is None  # pending: nobody sequenced it yet
    rt.close()
    rt2 = build_runtime(settings)
    try:
        assert auditlog.index_of(rt2.catalog, event_id) is not None
    finally:
        rt2.close()


def test_a_daemon_started_before_its_database_waits_for_it_and_says_why(
    tmp_path: Path, pg_admin_url: str
) -> None:
    """The catalog's database does not exist yet (PostgreSQL answers, refusing the connection): the
    runtime says why, waits 1 s, 2 s, …, and opens once the database is there."""
    name = f"liuhen_wait_{uuid.uuid4().hex[:10]}"
    settings = Settings(data_dir=tmp_path / "d", database_url=with_dbname(pg_admin_url, name), store="local")
    said: list[str] = []
    slept: list[float] = []

    def say(msg: str) -> None:
        said.append(msg)
        if len(said) == 2:  # the database appears during the second wait
            with psycopg.connect(pg_admin_url, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')

    try:
        rt = build_runtime_waiting(settings, say=say, sleep=slept.append)
        try:
            assert rt.catalog.one("SELECT count(*) AS n FROM schema_migrations")["n"] > 0
        finally:
            rt.close()
        assert slept == [1.0, 2.0]
        assert len(said) == 2 and all("cannot connect to PostgreSQL" in m and "trying again in" in m for m in said)
        assert name in said[0] and "does not exist" in said[0]
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
