"""The role matrix, exhaustively: every route × every role (and anonymous) gets exactly what MATRIX says."""

from __future__ import annotations

import re

from liuhen.api.app import all_routes
from liuhen.api.roles import ANONYMOUS, MATRIX, ROLES
from tests.api.conftest import bearer

DUMMY = {
    "sha256": "0" * 64,
    "case_no": "NO-SUCH-CASE",
    "link_id": "1",
    "seq": "0",
    "request_id": "1",
    "session_id": "1",
    "index": "0",
    "redaction_id": "1",
}


def _path(p: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: DUMMY[m.group(1)], p)


def test_every_route_is_in_the_matrix_and_nothing_else_is(app):
    names = {r.name for r in all_routes(app)}
    assert names - ANONYMOUS == set(MATRIX), "routes missing from / stale in api.roles.MATRIX"
    assert ANONYMOUS == {"health", "public.publications", "public.publications_html"}


def test_every_role_times_every_endpoint(app, client, tokens):
    checked = 0
    for route in all_routes(app):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            url = _path(route.path)
            anon = client.request(method, url, json={})
            if route.name in ANONYMOUS:
                assert anon.status_code == 200
                continue
            assert anon.status_code == 401, (route.name, anon.text)
            assert anon.headers["content-type"].startswith("application/problem+json")
            for role in ROLES:
                r = client.request(method, url, json={}, headers=bearer(tokens[role]))
                denied = r.status_code == 403 and r.json().get("title") == "Role not allowed"
                assert denied == (role not in MATRIX[route.name]), (route.name, role, r.status_code, r.text)
                assert r.status_code < 500, (route.name, role, r.text)
                checked += 1
    assert checked == len(MATRIX) * len(ROLES)


def test_revoked_and_unknown_tokens_are_refused_and_tokens_are_stored_hashed(runtime, client, tokens):
    from liuhen.api.auth import hash_token, revoke_token

    assert client.get("/whoami", headers=bearer(tokens["clerk"])).json()["role"] == "clerk"
    row = runtime.catalog.one(
        "SELECT t.id, t.token_hash FROM api_tokens t JOIN api_users u ON u.id = t.user_id WHERE u.name = 'clerk'"
    )
    assert row["token_hash"] == hash_token(tokens["clerk"])
    dump = str(runtime.catalog.all("SELECT * FROM api_tokens"))
    assert tokens["clerk"] not in dump and tokens["clerk"][10:] not in dump
    revoke_token(runtime, row["id"], actor="admin")
    assert client.get("/whoami", headers=bearer(tokens["clerk"])).status_code == 401
    assert client.get("/whoami", headers=bearer("lhn_forged")).status_code == 401
    assert client.get("/whoami", headers={"Authorization": "Basic abc"}).status_code == 401
    types = [r["type"] for r in runtime.catalog.all("SELECT type FROM log_events WHERE type LIKE 'token.%'")]
    assert types.count("token.issue") == 8 and types.count("token.revoke") == 1
