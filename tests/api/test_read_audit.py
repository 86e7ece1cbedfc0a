"""Read audit: authorised non-footage requests are journaled (fail closed) and sealed into the audit log."""

from __future__ import annotations

import hashlib
from datetime import UTC

import psycopg
import pytest
import rfc8785

from liuhen.cases import readaudit
from liuhen.cases import service as cases
from liuhen.integrity.events import Event
from tests.api.conftest import bearer

CASE = "RA-2024-1"


@pytest.fixture
def case(runtime):  # type: ignore[no-untyped-def]
    cases.create_case(
        runtime,
        case_no=CASE,
        agency="市城管局-秘密机构",
        subject="张三",
        case_type="penalty",
        major=False,
        actor="clerk",
    )
    return CASE


def _journal(runtime):  # type: ignore[no-untyped-def]
    return runtime.catalog.all("SELECT * FROM read_journal ORDER BY id")


def _reviewer_reads(client, tokens) -> None:  # type: ignore[no-untyped-def]
    h = bearer(tokens["reviewer"])
    assert client.get("/files", params={"officer": "110001", "limit": 5}, headers=h).status_code == 200
    assert client.get(f"/cases/{CASE}", headers=h).status_code == 200


def test_search_and_case_read_are_journaled_naming_user_and_route(runtime, client, tokens, case):
    before = len(_journal(runtime))  # (token issue etc. make no journal rows; only HTTP requests do)
    _reviewer_reads(client, tokens)
    rows = _journal(runtime)[before:]
    assert [(r["user_name"], r["role"], r["route"], r["method"]) for r in rows] == [
        ("reviewer", "reviewer", "files.search", "GET"),
        ("reviewer", "reviewer", "cases.get", "GET"),
    ]
    search, get = rows
    assert search["path"] == "/files" and "officer=110001" in search["query"] and "limit=5" in search["query"]
    assert get["path"] == f"/cases/{CASE}" and get["query"] is None
    token_id = runtime.catalog.one(
        "SELECT t.id FROM api_tokens t JOIN api_users u ON u.id = t.user_id WHERE u.name = 'reviewer'"
    )["id"]
    assert search["token_id"] == token_id and search["sealed_event"] is None and search["at"].tzinfo is not None

    # refused requests are not "authorised reads"; footage routes record access events instead (I5)
    assert client.get("/access/reads", headers=bearer(tokens["reviewer"])).status_code == 403
    proxy = "/files/" + "0" * 64 + "/proxy?purpose=dispute%20review"
    assert client.get(proxy, headers=bearer(tokens["reviewer"])).status_code == 404
    assert len(_journal(runtime)) == before + 2

    # supervisors query the journal by user / route / time
    r = client.get(
        "/access/reads", params={"user": "reviewer", "route": "cases.get"}, headers=bearer(tokens["supervisor"])
    )
    assert r.status_code == 200
    got = r.json()
    assert [(x["user_name"], x["route"], x["path"]) for x in got] == [("reviewer", "cases.get", f"/cases/{CASE}")]
    later = got[0]["at"]
    assert client.get("/access/reads", params={"since": later}, headers=bearer(tokens["admin"])).status_code == 200
    r = client.get("/access/reads", params={"until": later, "user": "reviewer"}, headers=bearer(tokens["admin"]))
    assert [x["route"] for x in r.json()] == ["files.search"]
    # the supervisor's own journal query is itself journaled
    assert _journal(runtime)[-1]["route"] == "access.reads"


def _recompute(rows) -> str:  # type: ignore[no-untyped-def]
    """Independent recomputation of the documented line format (RFC 8785 JSON per row + newline)."""
    h = hashlib.sha256()
    for r in rows:
        line = {
            "id": r["id"],
            "at": r["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "user_name": r["user_name"],
            "role": r["role"],
            "token_id": r["token_id"],
            "route": r["route"],
            "method": r["method"],
            "path": r["path"],
            "query": r["query"],
            "status": r["status"],
            "client_ip": None if r["client_ip"] is None else str(r["client_ip"]),
        }
        h.update(rfc8785.dumps(line) + b"\n")
    return h.hexdigest()


def test_seal_records_one_batch_event_whose_digest_matches_and_tampering_is_detected(runtime, client, tokens, case):
    _reviewer_reads(client, tokens)
    _reviewer_reads(client, tokens)
    rows = _journal(runtime)
    assert len(rows) == 4
    assert readaudit.seal(runtime.catalog) == 4
    assert readaudit.seal(runtime.catalog) == 0  # nothing new: no event
    events = runtime.catalog.all("SELECT * FROM log_events WHERE type = 'access.read_batch'")
    assert len(events) == 1
    ev = events[0]
    assert ev["idx"] is not None  # sequenced into the Merkle log
    data = Event.from_leaf(bytes(ev["body"])).data
    assert data["count"] == 4 and data["first_id"] == rows[0]["id"] and data["last_id"] == rows[-1]["id"]
    assert data["sha256"] == _recompute(rows)
    assert {r["sealed_event"] for r in _journal(runtime)} == {ev["id"]}
    assert readaudit.check(runtime.catalog) == []

    # a second batch only takes the new rows
    _reviewer_reads(client, tokens)
    assert readaudit.seal(runtime.catalog) == 2
    assert readaudit.check(runtime.catalog) == []

    # the table refuses changes to rows (append-only trigger) ...
    with pytest.raises(psycopg.errors.RaiseException), runtime.catalog.tx() as conn:
        conn.execute("UPDATE read_journal SET route = 'whoami' WHERE id = %s", (rows[1]["id"],))
    with pytest.raises(psycopg.errors.RaiseException), runtime.catalog.tx() as conn:
        conn.execute("DELETE FROM read_journal WHERE id = %s", (rows[1]["id"],))
    # ... and someone who gets past it (superuser disabling the trigger) is caught by the digest
    with runtime.catalog.tx() as conn:
        conn.execute("ALTER TABLE read_journal DISABLE TRIGGER read_journal_append_only")
        conn.execute("UPDATE read_journal SET user_name = 'someone_else' WHERE id = %s", (rows[1]["id"],))
    (problem,) = readaudit.check(runtime.catalog)
    assert problem.startswith(f"read batch event {ev['id']} (journal ids {rows[0]['id']}..")
    with runtime.catalog.tx() as conn:  # restore, then delete a row instead: also caught
        conn.execute("UPDATE read_journal SET user_name = 'reviewer' WHERE id = %s", (rows[1]["id"],))
    assert readaudit.check(runtime.catalog) == []
    with runtime.catalog.tx() as conn:
        conn.execute("DELETE FROM read_journal WHERE id = %s", (rows[2]["id"],))
    (problem,) = readaudit.check(runtime.catalog)
    assert problem.startswith(f"read batch event {ev['id']}")


def test_journal_failure_refuses_the_request_with_503_and_serves_nothing(runtime, client, tokens, case):
    h = bearer(tokens["reviewer"])
    assert client.get(f"/cases/{CASE}", headers=h).json()["agency"] == "市城管局-秘密机构"
    with runtime.catalog.tx() as conn:
        conn.execute("DROP TABLE read_journal CASCADE")
    for url in (f"/cases/{CASE}", "/files?officer=110001", "/whoami"):
        r = client.get(url, headers=h)
        assert r.status_code == 503, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["title"] == "Read audit unavailable"
        assert "秘密机构" not in r.text and CASE not in r.json().get("detail", "")
    # a journal INSERT that fails another way (a refusing trigger) is refused too
    with runtime.catalog.tx() as conn:
        conn.execute(
            "CREATE TABLE read_journal (id bigserial, at timestamptz DEFAULT now(), user_name text, role text, "
            "token_id bigint, route text, method text, path text, query text, status smallint, client_ip inet, "
            "sealed_event bigint)"
        )
        conn.execute(
            "CREATE FUNCTION refuse_journal() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'journal disk full'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON read_journal FOR EACH ROW EXECUTE FUNCTION refuse_journal()"
        )
    r = client.get(f"/cases/{CASE}", headers=h)
    assert r.status_code == 503 and "秘密机构" not in r.text
    with runtime.catalog.tx() as conn:
        conn.execute("DROP TRIGGER refuse ON read_journal")
    assert client.get(f"/cases/{CASE}", headers=h).status_code == 200


def test_503_is_documented_for_authorised_routes(client, tokens):
    spec = client.get("/openapi.json", headers=bearer(tokens["admin"])).json()
    assert "503" in spec["paths"]["/files"]["get"]["responses"]
    assert "503" in spec["paths"]["/access/reads"]["get"]["responses"]
