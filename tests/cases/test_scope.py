"""cases/scope.py: units are boundaries — the parent rule (known answers) and role × unit × route over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from liuhen.api.auth import issue_token
from liuhen.cases import service
from liuhen.cases.principal import Principal
from liuhen.cases.scope import can_act, covers, unit_prefix
from tests.api.conftest import bearer
from tests.api.helpers import add_derivative, store_file

A, B, CITY = "110101000000", "110102000000", "110100000000"  # 东城区, 西城区, 北京市辖区 (GB/T 2260)


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        (A, "110101"),  # county: 2+2+2 digits significant
        (CITY, "1101"),  # city
        ("110000000000", "11"),  # province
        ("110101001000", "110101001"),  # township (3 digits)
        ("110101001002", "110101001002"),  # village: all 12
        ("000000000000", ""),  # the national root covers every 12-digit code
        ("U1", None),  # any other shape is opaque
        ("1101010000000", None),
    ],
)
def test_unit_prefix(code: str, prefix: str | None) -> None:
    assert unit_prefix(code) == prefix


def test_parent_rule() -> None:
    assert covers(CITY, A) and covers(CITY, B) and covers(A, "110101001002") and covers(A, A)
    assert not covers(A, B) and not covers(A, CITY) and not covers("U1", "U10") and not covers(CITY, "1101X")
    sup_city, clerk_city = Principal("s", "supervisor", CITY), Principal("c", "clerk", CITY)
    assert can_act(sup_city, A) and not can_act(clerk_city, A)  # only supervisors see sub-units
    assert can_act(Principal("c", "clerk", B), A, granted=frozenset({B}))
    assert can_act(Principal("c", "clerk", B), None) and can_act(Principal("ops", "clerk", None), A)


@pytest.fixture
def world(runtime, media) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    tok = {}
    for user, role, unit in [("clerkA", "clerk", A), ("clerkB", "clerk", B), ("supA", "supervisor", A),
                             ("supB", "supervisor", B), ("supCity", "supervisor", CITY), ("revA", "reviewer", A),
                             ("revB", "reviewer", B), ("lrB", "legal_reviewer", B)]:
        tok[user], _ = issue_token(runtime, user=user, role=role, unit_code=unit, actor="t")
    fa = store_file(runtime, media["h264_mp4"], unit_code=A)
    add_derivative(runtime, fa, media["h264_mp4"], "proxy", "video/mp4")
    add_derivative(runtime, fa, media["jpg"], "thumbnail", "image/jpeg")
    fb = store_file(runtime, media["jpg"], unit_code=B, media_kind="photo")
    service.create_case(runtime, case_no="A-1", agency="东城", subject="s", case_type="penalty", actor="t",
                        unit_code=A)
    service.create_case(runtime, case_no="B-1", agency="西城", subject="s", case_type="penalty", actor="t",
                        unit_code=B)
    service.link_clip(runtime, "A-1", fa["sha256"], stage="filing", actor="t")
    return {"tok": tok, "fa": fa["sha256"], "fb": fb["sha256"]}


def _routes(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]:
    fa, q = w["fa"], {"purpose": "复核 unit test"}
    act = {"stage": "filing", "kind": "inspection", "starts_at": "2024-05-06T09:00:00Z",
           "ends_at": "2024-05-06T09:10:00Z"}
    return [
        ("GET", "/cases/A-1", None, None),
        ("GET", "/cases/A-1/completeness", None, None),
        ("GET", "/cases/A-1/completeness.html", None, None),
        ("POST", "/cases/A-1/activities", act, None),
        ("POST", "/cases/A-1/stage", {"stage": "investigation"}, None),
        ("POST", "/cases/A-1/legal-reviews", {"opinion": "同意", "approved": True}, None),
        ("GET", f"/files/{fa}", None, None),
        ("GET", f"/files/{fa}/proxy", None, q),
        ("GET", f"/files/{fa}/thumbnails", None, None),
        ("GET", f"/files/{fa}/thumbnails/0", None, q),
        ("POST", "/cases/B-1/links", {"file": fa, "stage": "filing"}, None),  # B links A's clip into B's case
        ("POST", "/access/requests", {"kind": "download", "purpose": "复核", "files": [fa]}, None),
        ("POST", "/access/requests", {"kind": "export", "purpose": "复核", "case_no": "A-1"}, None),
        ("POST", f"/holds/{fa}/release", {"reason": "mistaken link"}, None),
    ]


# Which users may call each route at all (the role matrix) — among them, unit B's are refused A's objects.
ROLE_OK = {"/stage": {"clerk", "supervisor"}, "/activities": {"clerk", "supervisor"}, "/links": {"clerk", "supervisor"},
           "/legal-reviews": {"legal_reviewer"}, "/release": {"supervisor"}}


def _role_allowed(path: str, role: str) -> bool:
    for suffix, roles in ROLE_OK.items():
        if path.endswith(suffix):
            return role in roles
    return True


def test_role_by_unit_by_route(client, world) -> None:
    roles = {"clerkB": "clerk", "supB": "supervisor", "revB": "reviewer", "lrB": "legal_reviewer"}
    checked = 0
    for method, path, body, params in _routes(world):
        for user, role in roles.items():
            if not _role_allowed(path, role):
                continue
            r = client.request(method, path, json=body, params=params, headers=bearer(world["tok"][user]))
            assert r.status_code == 404, (user, method, path, r.status_code, r.text)  # as if it did not exist
            checked += 1
    assert checked >= 25
    # ... while unit A's own people and the city's supervisor get through
    for user in ("clerkA", "supCity"):
        assert client.get("/cases/A-1", headers=bearer(world["tok"][user])).status_code == 200
        assert client.get(f"/files/{world['fa']}", headers=bearer(world["tok"][user])).status_code == 200


def test_lists_and_creation_are_scoped(client, world) -> None:
    b = bearer(world["tok"]["clerkB"])
    assert [c["case_no"] for c in client.get("/cases", headers=b).json()] == ["B-1"]
    assert [f["sha256"] for f in client.get("/files", headers=b).json()["items"]] == [world["fb"]]
    city = bearer(world["tok"]["supCity"])
    assert sorted(c["case_no"] for c in client.get("/cases", headers=city).json()) == ["A-1", "B-1"]
    r = client.post("/cases", headers=b, json={"case_no": "X-1", "agency": "a", "subject": "s",
                                               "case_type": "levy", "unit_code": A})
    assert r.status_code == 403 and "may not open a case for unit" in r.text


def test_supervisor_of_another_unit_cannot_decide_its_requests(client, world) -> None:
    r = client.post("/access/requests", headers=bearer(world["tok"]["revA"]),
                    json={"kind": "download", "purpose": "复核", "files": [world["fa"]]})
    rid = r.json()["id"]
    d = client.post(f"/access/requests/{rid}/decision", headers=bearer(world["tok"]["supB"]), json={"approve": True})
    assert d.status_code == 404
    d = client.post(f"/access/requests/{rid}/decision", headers=bearer(world["tok"]["supA"]), json={"approve": True})
    assert d.status_code == 200


def test_an_explicit_audited_grant_opens_a_joint_case(runtime, client, world) -> None:
    b = bearer(world["tok"]["clerkB"])
    assert client.get("/cases/A-1", headers=b).status_code == 404
    r = client.post("/cases/A-1/grants", headers=bearer(world["tok"]["supB"]), json={"unit_code": B, "reason": "x"})
    assert r.status_code == 404  # B's supervisor cannot grant itself A's case
    r = client.post("/cases/A-1/grants", headers=bearer(world["tok"]["supA"]),
                    json={"unit_code": B, "reason": "联合办案 (joint case order 2024-17)"})
    assert r.status_code == 201, r.text
    assert client.get("/cases/A-1", headers=b).status_code == 200
    assert client.get(f"/files/{world['fa']}", headers=b).status_code == 200  # the case's clips come with it
    ev = runtime.catalog.one("SELECT actor, body FROM log_events WHERE id = %s", (r.json()["event_id"],))
    assert ev["actor"] == "supA" and b'"type":"case.grant"' in bytes(ev["body"]) and B.encode() in bytes(ev["body"])


def test_a_grant_is_revoked_by_the_case_units_supervisor_and_logged(runtime, client, world) -> None:
    b, sup_a = bearer(world["tok"]["clerkB"]), bearer(world["tok"]["supA"])
    r = client.post("/cases/A-1/grants", headers=sup_a, json={"unit_code": B, "reason": "联合办案"})
    assert r.status_code == 201, r.text
    assert client.get("/cases/A-1", headers=b).status_code == 200
    r = client.delete(f"/cases/A-1/grants/{B}", headers=bearer(world["tok"]["supB"]))
    assert r.status_code == 403 and "only that unit" in r.text  # the grantee cannot revoke (nor re-share)
    r = client.delete(f"/cases/A-1/grants/{B}", headers=bearer(world["tok"]["clerkA"]))
    assert r.status_code == 403  # the role matrix: supervisors only
    r = client.delete(f"/cases/A-1/grants/{B}", headers=sup_a)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_by"] == "supA" and r.json()["unit_code"] == B
    assert client.get("/cases/A-1", headers=b).status_code == 404
    assert client.get(f"/files/{world['fa']}", headers=b).status_code == 404  # the clips go with it
    ev = runtime.catalog.one("SELECT actor, body FROM log_events WHERE id = %s", (r.json()["revoke_event_id"],))
    assert ev["actor"] == "supA" and b'"type":"case.grant_revoke"' in bytes(ev["body"])
    assert client.delete(f"/cases/A-1/grants/{B}", headers=sup_a).status_code == 404  # nothing left to revoke


def test_oversight_lists_are_scoped_by_unit(runtime, client, world) -> None:
    from liuhen.cases import access

    tok = world["tok"]
    rid_a = client.post("/access/requests", headers=bearer(tok["revA"]),
                        json={"kind": "download", "purpose": "复核", "files": [world["fa"]]}).json()["id"]
    rid_b = client.post("/access/requests", headers=bearer(tok["revB"]),
                        json={"kind": "download", "purpose": "复核", "files": [world["fb"]]}).json()["id"]
    fa = runtime.catalog.one("SELECT * FROM files WHERE sha256 = %s", (world["fa"],))
    access.ensure_access_recorded(runtime, Principal("revB", "reviewer", B), "view", purpose="越界", file=fa)
    other, _ = issue_token(runtime, user="supC", role="supervisor", unit_code="110105000000", actor="t")

    def ids(user: str, path: str, key: str = "id") -> list[Any]:
        r = client.get(path, headers=bearer(tok.get(user) or other))
        assert r.status_code == 200, r.text
        return sorted(x[key] for x in r.json())

    assert ids("supA", "/access/requests") == [rid_a] and ids("supB", "/access/requests") == [rid_b]
    assert ids("supCity", "/access/requests") == [rid_a, rid_b]
    assert client.get(f"/access/requests/{rid_a}", headers=bearer(tok["supB"])).status_code == 404
    # the access log: rows whose object or user is of the caller's units
    assert ids("supA", "/access/log", "user_name") == ["revA", "revB"]  # revA's request, revB's view of A's clip
    assert ids("supB", "/access/log", "user_name") == ["revB", "revB"]
    assert ids("supC", "/access/log", "user_name") == []
    # unusual access: the outside-unit view is flagged to both units' supervisors, not to a third unit's
    assert ids("supA", "/access/unusual", "flag") == ["outside_unit"] == ids("supB", "/access/unusual", "flag")
    assert ids("supC", "/access/unusual", "flag") == []


def test_ingest_sessions_are_scoped_by_the_recorders_unit(runtime, client, world) -> None:
    with runtime.catalog.tx() as conn:
        for serial, unit in (("DSJ-A", A), ("DSJ-B", B)):
            rec = conn.execute("INSERT INTO recorders (device_serial, unit_code) VALUES (%s, %s) RETURNING id",
                               (serial, unit)).fetchone()
            conn.execute("INSERT INTO ingest_sessions (recorder_id, device_serial, dock_path, port) "
                         "VALUES (%s, %s, '/dock', 'p1')", (rec["id"], serial))

    def serials(user: str) -> list[str]:
        r = client.get("/ingest/sessions", headers=bearer(world["tok"][user]))
        assert r.status_code == 200, r.text
        return sorted(s["device_serial"] for s in r.json())

    assert serials("supA") == ["DSJ-A"] and serials("supB") == ["DSJ-B"] and serials("supCity") == ["DSJ-A", "DSJ-B"]
    sid_b = runtime.catalog.one("SELECT id FROM ingest_sessions WHERE device_serial = 'DSJ-B'")["id"]
    assert client.get(f"/ingest/sessions/{sid_b}", headers=bearer(world["tok"]["supA"])).status_code == 404
    assert client.get(f"/ingest/sessions/{sid_b}", headers=bearer(world["tok"]["supB"])).status_code == 200


def test_the_read_journal_is_scoped_by_the_readers_unit(runtime, client, world) -> None:
    tok = world["tok"]
    ops, _ = issue_token(runtime, user="ops", role="admin", actor="t")  # agency-wide: no unit
    for user, path in (("revA", "/cases/A-1"), ("revB", "/cases/B-1"), ("clerkB", "/cases/B-1")):
        assert client.get(path, headers=bearer(tok[user])).status_code == 200
    assert client.get("/access/reads", headers=bearer(ops)).status_code == 200
    with runtime.catalog.tx() as conn:  # a journal row of a reader no longer (or never) in api_users
        conn.execute("INSERT INTO read_journal (user_name, role, route, method, path) "
                     "VALUES ('gone', 'reviewer', 'cases.list', 'GET', '/cases')")

    def readers(user: str, token: str | None = None) -> set[str]:
        r = client.get("/access/reads", headers=bearer(token or tok[user]))
        assert r.status_code == 200, r.text
        return {x["user_name"] for x in r.json()}

    # each caller's own earlier /access/reads rows are journaled too; agency-wide and unknown readers are unscoped
    assert readers("supA") == {"revA", "supA", "ops", "gone"}
    assert readers("supB") == {"revB", "clerkB", "supB", "ops", "gone"}
    assert readers("supCity") == {"revA", "supA", "revB", "clerkB", "supB", "supCity", "ops", "gone"}
    assert {"revA", "revB", "supCity"} <= readers("ops", ops)  # an agency-wide auditor sees every unit
    r = client.get("/access/reads", headers=bearer(tok["supA"]), params={"user": "revB"})
    assert r.status_code == 200 and r.json() == []  # filtering by name does not reach past the unit
