"""Append-only guards in SQL (I6, I8; migration 0102): raw statements a bug or a user without the power
to disable triggers might run. Each must be refused; the sequencer's own writes must still go through."""

from __future__ import annotations

import psycopg
import pytest

from liuhen.catalog.db import Catalog
from liuhen.integrity import log, rfc6962
from liuhen.integrity.events import Event


def ev(i: int) -> Event:
    return Event("access.view", "officer:1", subject={"sha256": f"{i:064x}"}, data={"i": i})


def refused(catalog: Catalog, sql: str, params: tuple = ()) -> None:  # type: ignore[type-arg]
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"), catalog.tx() as conn:
        conn.execute(sql, params)


def _pending(catalog: Catalog, i: int) -> int:
    with catalog.tx() as conn:
        return log.record(conn, ev(i))


def _inbox(catalog: Catalog, i: int) -> int:
    e = ev(i)
    with catalog.tx() as conn:
        row = conn.execute("INSERT INTO log_inbox (body, type, actor, subject_sha256) VALUES (%s, %s, %s, %s) "
                           "RETURNING id", (e.leaf_bytes(), e.type, e.actor, e.subject["sha256"])).fetchone()
    assert row is not None
    return int(row["id"])


def test_I8_pending_events_cannot_be_deleted(catalog: Catalog) -> None:
    """A pending event is already acknowledged (committed): deleting it would lose it silently."""
    eid = _pending(catalog, 1)
    refused(catalog, "DELETE FROM log_events WHERE id = %s", (eid,))
    refused(catalog, "DELETE FROM log_events WHERE idx IS NULL")
    assert log.pending_count(catalog) == 1
    log.sequence(catalog)
    refused(catalog, "DELETE FROM log_events")
    assert log.size(catalog) == 1


def test_I6_pending_event_gets_its_index_once_and_nothing_else_changes(catalog: Catalog) -> None:
    eid = _pending(catalog, 1)
    body = log.leaf_for_event(catalog, eid)
    assert body is None  # pending
    refused(catalog, "UPDATE log_events SET body = 'x'::bytea WHERE id = %s", (eid,))
    refused(catalog, "UPDATE log_events SET created_at = now() - interval '1 day' WHERE id = %s", (eid,))
    refused(catalog, "UPDATE log_events SET actor = 'someone' WHERE id = %s", (eid,))
    # an index with a leaf hash that is not SHA-256(0x00 || body)
    refused(catalog, "UPDATE log_events SET idx = 0, leaf_hash = %s WHERE id = %s", (bytes(32), eid))
    # the sequencer's update (correct leaf hash) goes through, once
    log.sequence(catalog)
    lf = log.leaf(catalog, 0)
    assert lf.event_id == eid and lf.leaf_hash == rfc6962.leaf_hash(lf.body)
    refused(catalog, "UPDATE log_events SET idx = 5 WHERE id = %s", (eid,))
    refused(catalog, "UPDATE log_events SET idx = NULL, leaf_hash = NULL WHERE id = %s", (eid,))


def test_I8_inbox_rows_leave_only_by_being_sequenced(catalog: Catalog) -> None:
    a, b = _inbox(catalog, 1), _inbox(catalog, 2)
    refused(catalog, "UPDATE log_inbox SET body = 'x'::bytea WHERE id = %s", (a,))
    refused(catalog, "UPDATE log_inbox SET actor = 'x'")
    refused(catalog, "DELETE FROM log_inbox WHERE id = %s", (a,))
    refused(catalog, "DELETE FROM log_inbox")
    refused(catalog, "TRUNCATE log_inbox")
    # a decoy log_events row with the inbox id but another body does not license the delete
    with catalog.tx() as conn:
        conn.execute("INSERT INTO log_events (id, body, type, actor) VALUES (%s, 'forged'::bytea, 'x', 'x')", (b,))
    refused(catalog, "DELETE FROM log_inbox WHERE id = %s", (b,))
    assert log.pending_count(catalog) == 3
    # the sequencer's move (one statement: DELETE ... RETURNING into INSERT) is allowed
    with catalog.tx() as conn:
        conn.execute("ALTER TABLE log_events DISABLE TRIGGER USER")  # test set-up only: remove the decoy
        conn.execute("DELETE FROM log_events WHERE id = %s", (b,))
        conn.execute("ALTER TABLE log_events ENABLE TRIGGER USER")
    assert log.sequence(catalog) == 2
    assert catalog.one("SELECT count(*) AS n FROM log_inbox")["n"] == 0  # type: ignore[index]
    assert [log.leaf(catalog, i).event_id for i in (0, 1)] == [a, b]


def test_I6_log_keys_are_insert_only_except_retiring_once(catalog: Catalog) -> None:
    with catalog.tx() as conn:
        conn.execute("INSERT INTO log_keys (key_id, name, vkey) VALUES ('01020304', 'n', 'n+01020304+AQ==')")
    refused(catalog, "UPDATE log_keys SET vkey = 'n+01020304+Ag==' WHERE key_id = '01020304'")
    refused(catalog, "UPDATE log_keys SET created_at = now() - interval '1 year'")
    refused(catalog, "DELETE FROM log_keys")
    refused(catalog, "TRUNCATE log_keys")
    with catalog.tx() as conn:  # retiring is allowed, once
        conn.execute("UPDATE log_keys SET retired_at = now() WHERE key_id = '01020304'")
    refused(catalog, "UPDATE log_keys SET retired_at = now() + interval '1 day'")
    refused(catalog, "UPDATE log_keys SET retired_at = NULL")


def test_I6_tree_size_never_shrinks(catalog: Catalog) -> None:
    log.append_many(catalog, [ev(i) for i in range(3)])
    refused(catalog, "UPDATE log_state SET size = 2")
    refused(catalog, "DELETE FROM log_state")
    refused(catalog, "TRUNCATE log_state")
    log.append(catalog, ev(9))
    assert log.size(catalog) == 4


def test_read_journal_refuses_truncate(catalog: Catalog) -> None:
    catalog.one(
        "INSERT INTO read_journal (user_name, role, route, method, path) VALUES ('u', 'clerk', '/x', 'GET', '/x') "
        "RETURNING id"
    )
    with pytest.raises(psycopg.Error, match="append-only"), catalog.tx() as conn:
        conn.execute("TRUNCATE read_journal")
    assert catalog.one("SELECT count(*) AS n FROM read_journal") == {"n": 1}
