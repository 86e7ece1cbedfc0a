"""Least privilege in PostgreSQL (migration 1000_roles): each component does its job, and is refused the rest.

Every test logs in as a fresh LOGIN role that is a member of one component role (as a deployment does),
runs the real production code for that component (ingest, transcoding, access recording, sequencing), then
tries what that component must never do. "Refused" means PostgreSQL raised: insufficient privilege, or
one of the append-only triggers (0100/0102) for the few log operations every writer may attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors

from liuhen.cases.access import record_access
from liuhen.cases.principal import Principal
from liuhen.catalog.db import migrate
from liuhen.core.config import Settings
from liuhen.ingest.offload import ingest_path
from liuhen.integrity.log import sequence
from liuhen.simulate import simulate_dock
from liuhen.transcoder.service import process_file
from liuhen.wiring import build_runtime
from tests.transcoder.conftest import add_original

REFUSED = (errors.InsufficientPrivilege, errors.RaiseException)
# what no component may do to the log, the schema or retention
ALWAYS_REFUSED = [
    "TRUNCATE log_events",
    "TRUNCATE files",
    "ALTER TABLE log_events DISABLE TRIGGER log_events_append_only",
    "ALTER TABLE log_events DISABLE TRIGGER ALL",
    "DROP TRIGGER log_events_append_only ON log_events",
    "DROP TABLE log_events",
    "ALTER TABLE files ALTER COLUMN retention_until DROP NOT NULL",
    "SET session_replication_role = replica",
    "CREATE TABLE public.sneaky (x int)",
    "CREATE OR REPLACE FUNCTION log_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END $$",
    "UPDATE files SET retention_until = now()",
    "UPDATE files SET sha256 = repeat('0', 64), size = 0, storage_key = 'x'",
    "DELETE FROM files",
    "DELETE FROM log_events",
    "UPDATE log_events SET body = '\\x00'::bytea",
    "UPDATE log_state SET size = 0",
    "INSERT INTO log_inbox (body, type, actor) VALUES ('\\x00', 'x', 'y'); DELETE FROM log_inbox",
    "DELETE FROM checkpoints",
    "UPDATE checkpoints SET note = 'x'",
    "DELETE FROM access_events",
    "UPDATE access_events SET purpose = 'x'",
    "DELETE FROM ingest_sessions",
    "DELETE FROM derivatives",
    "GRANT liuhen_api TO CURRENT_USER",
]


@pytest.fixture
def login(pg_url: str) -> Iterator[Any]:
    """``login("station")`` → a database URL for a new LOGIN member of liuhen_station."""
    made: list[str] = []

    def make(component: str) -> str:
        name = f"lh_{component}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE "liuhen_{component}"')
        made.append(name)
        info = psycopg.conninfo.conninfo_to_dict(pg_url)
        info["user"] = name
        return psycopg.conninfo.make_conninfo(**{k: v for k, v in info.items() if v is not None})

    yield make
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def refused(url: str, sql: str) -> None:
    with psycopg.connect(url) as conn:
        with pytest.raises(REFUSED):
            conn.execute(sql)


def _assert_all_refused(url: str, statements: list[str]) -> None:
    allowed = []
    for sql in statements:
        with psycopg.connect(url) as conn:
            try:
                conn.execute(sql)
                allowed.append(sql)
            except REFUSED:
                pass
            finally:
                conn.rollback()
    assert not allowed, f"not refused: {allowed}"


def _component_settings(tmp_path: Path, url: str, data: str = "data") -> Settings:
    return Settings(data_dir=tmp_path / data, database_url=url, store="local", broker_url=None)


@pytest.fixture
def ingested(tmp_path: Path, login: Any) -> dict[str, Any]:
    """One recorder offloaded by a station logged in with the station role (the real ingest code)."""
    url = login("station")
    dock = tmp_path / "dock"
    simulate_dock(dock, recorders=1, minutes=0.1, width=320, height=240, bitrate="300k", clip_seconds=3)
    # components start like any liuhen process: the migration check finds nothing to do and needs no rights
    rt = build_runtime(_component_settings(tmp_path, url), migrate=True)
    try:
        receipts = ingest_path(rt, dock, actor="station:test")
    finally:
        rt.close()
    return {"url": url, "receipts": receipts}


def test_station_role_offloads_a_recorder_to_safe_to_wipe(ingested: dict[str, Any]) -> None:
    (r,) = ingested["receipts"]
    assert r.safe_to_wipe, r.reasons
    states = [(f.path, f.status, f.log_index) for f in r.files]
    assert r.files and all(f.status == "verified" and f.log_index is not None for f in r.files), states


def test_station_role_is_refused_the_rest(ingested: dict[str, Any]) -> None:
    url = ingested["url"]
    _assert_all_refused(
        url,
        [
            *ALWAYS_REFUSED,
            "UPDATE files SET legal_hold = true",
            "UPDATE files SET media_status = 'ok'",
            "UPDATE ingest_sessions SET device_serial = 'FORGED', recorder_key = 'FORGED'",
            "UPDATE session_files SET source_path = 'x'",
            "DELETE FROM session_files",
            "SELECT * FROM api_tokens",
            "SELECT * FROM access_events",
            "INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) "
            "SELECT id, 'proxy', sha256, 1, 'x', 'video/mp4', '{}' FROM files LIMIT 1",
            "INSERT INTO access_events (event_id, user_name, kind) VALUES (1, 'x', 'view')",
        ],
    )


def test_worker_role_transcodes_and_is_refused_the_rest(ingested: dict[str, Any], tmp_path: Path, login: Any) -> None:
    url = login("worker")
    # the worker reads the same (local, shared) store the station wrote
    rt = build_runtime(_component_settings(tmp_path, url), migrate=False)
    try:
        ids = [int(r["id"]) for r in rt.catalog.all("SELECT id FROM files WHERE media_kind = 'video' ORDER BY id")]
        assert ids
        res = process_file(rt, ids[0])
        assert res.status == "ok", res
        assert rt.catalog.one("SELECT count(*) AS n FROM derivatives WHERE file_id = %s", (ids[0],))["n"] >= 1
        sequence(rt.catalog)
    finally:
        rt.close()
    _assert_all_refused(
        url,
        [
            *ALWAYS_REFUSED,
            "INSERT INTO files (sha256, size, storage_key) VALUES (repeat('a', 64), 1, 'k')",
            "UPDATE files SET legal_hold = false",
            "UPDATE derivatives SET sha256 = repeat('0', 64)",
            "UPDATE ingest_sessions SET safe_to_wipe = true",
            "INSERT INTO ingest_sessions (dock_path, port) VALUES ('d', 'p')",
            "SELECT * FROM api_tokens",
        ],
    )


def test_api_role_records_access_and_is_refused_the_rest(ingested: dict[str, Any], tmp_path: Path, login: Any) -> None:
    url = login("api")
    rt = build_runtime(_component_settings(tmp_path, url), migrate=False)
    try:
        f = rt.catalog.one("SELECT * FROM files ORDER BY id LIMIT 1")
        assert f is not None
        with rt.catalog.tx() as conn:
            ev = record_access(conn, Principal("clerk1", "clerk", "110101000000"), "view", purpose="test", file=f)
        sequence(rt.catalog)
        assert rt.catalog.one("SELECT idx FROM log_events WHERE id = %s", (ev,))["idx"] is not None
        rt.catalog.one("UPDATE files SET legal_hold = true WHERE id = %s RETURNING id", (f["id"],))
    finally:
        rt.close()
    _assert_all_refused(
        url,
        [
            *ALWAYS_REFUSED,
            "INSERT INTO files (sha256, size, storage_key) VALUES (repeat('a', 64), 1, 'k')",
            "UPDATE files SET original_name = 'x', recorded_at = now(), officer_no = '999999'",
            "INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) "
            "SELECT id, 'proxy', sha256, 1, 'x', 'video/mp4', '{}' FROM files LIMIT 1",
            "UPDATE session_files SET status = 'stored'",
            "UPDATE ingest_sessions SET safe_to_wipe = true",
            "UPDATE access_events SET user_name = 'someone-else'",
        ],
    )


API_APPEND_ONLY = ["exports", "publication_versions", "evaluation_findings", "console_playback", "console_auth_log"]
API_WORKING = ["case_unit_grants", "redactions", "calendar_years", "publication_rules", "publications",
               "feed_consumers", "feed_deliveries", "console_credentials", "console_sessions"]


def test_api_role_writes_the_later_packages_tables_and_deletes_nothing(login: Any) -> None:
    """Unit grants, redaction, publication and console tables (created before 1000_roles runs) are writable
    by API nodes: append-only records INSERT only, working rows INSERT and UPDATE, no DELETE anywhere."""
    url = login("api")
    with psycopg.connect(url) as conn:
        def can(table: str, right: str) -> bool:
            return bool(conn.execute("SELECT has_table_privilege(%s, %s)", (table, right)).fetchone()[0])

        for t in API_APPEND_ONLY + API_WORKING:
            assert can(t, "INSERT") and not can(t, "DELETE") and not can(t, "TRUNCATE"), t
        assert [t for t in API_APPEND_ONLY if can(t, "UPDATE")] == []
        assert [t for t in API_WORKING if not can(t, "UPDATE")] == []


def test_readonly_role_reads_and_writes_nothing(ingested: dict[str, Any], login: Any) -> None:
    url = login("readonly")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] >= 1
    _assert_all_refused(
        url,
        [*ALWAYS_REFUSED, "INSERT INTO log_inbox (body, type, actor) VALUES ('\\x00', 'x', 'y')",
         "UPDATE files SET legal_hold = true"],
    )


def test_roles_migration_is_idempotent_across_databases(pg_url: str, empty_pg_url: str) -> None:
    """Roles are cluster-wide: a second database's migration finds them and only grants."""
    with psycopg.connect(empty_pg_url) as conn:
        assert "1000_roles" in migrate(conn)
    with psycopg.connect(pg_url) as conn:
        n = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname IN "
            "('liuhen_station', 'liuhen_worker', 'liuhen_api', 'liuhen_readonly') AND NOT rolcanlogin"
        ).fetchone()[0]
    assert n == 4


def test_session_names_the_station_and_its_clock_against_the_database(ingested: dict[str, Any], pg_url: str) -> None:
    """Receipts name the station (actor) and the session records its host and clock drift vs PostgreSQL."""
    with psycopg.connect(pg_url) as conn:
        ident, actor, flags = conn.execute("SELECT identity, actor, flags FROM ingest_sessions").fetchone()
    assert actor == "station:test" and ingested["receipts"][0].actor == "station:test"
    assert ident["station"]["actor"] == "station:test" and ident["station"]["host"]
    assert abs(ident["station"]["clock_drift_s"]) < 5 and "station_clock_drift" not in flags


def test_api_adds_only_redacted_copies_and_workers_move_redactions(login, runtime, media) -> None:  # type: ignore[no-untyped-def]
    """1001_redaction_worker: an approval on an API node writes the 'redacted' derivative; nothing else."""
    fid = add_original(runtime, media["h264_mp4"])
    insert = (
        "INSERT INTO derivatives (file_id, kind, sha256, size, path, mime, recipe) "
        f"SELECT id, '{{kind}}', sha256, 1, 'x', 'video/mp4', '{{{{}}}}' FROM files WHERE id = {fid}"
    )
    api = login("api")
    with psycopg.connect(api) as conn:
        conn.execute(insert.format(kind="redacted"))  # allowed: the approval's final copy
        conn.rollback()
    _assert_all_refused(api, [insert.format(kind="proxy"), insert.format(kind="thumbnail")])
    worker = login("worker")
    with psycopg.connect(worker) as conn:
        conn.execute("UPDATE redactions SET state = state WHERE false")  # allowed: the render job's updates
    _assert_all_refused(worker, ["DELETE FROM redactions"])
