"""Sign-in, sessions, CSRF, lockout, role gates and escaping over HTTP (TestClient on the real catalog)."""

from __future__ import annotations

from tests.console.conftest import PASSWORD, csrf_of, login


def test_anonymous_is_sent_to_login_and_gets_nothing_else(web) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/", follow_redirects=True)
    assert r.url.path == "/ui/login" and 'data-testid="login-user"' in r.text
    for path in ("/ui/cases", "/ui/dock/state", "/ui/files/" + "0" * 64 + "/proxy?grant=1"):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login"), path
    csp = web.get("/ui/login").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


def test_login_sets_strict_httponly_cookie_and_new_session(web, users, runtime) -> None:  # type: ignore[no-untyped-def]
    web.cookies.set("liuhen_session", "attacker-chosen", domain="testserver.local", path="/")
    r = login(web, users["clerk"])
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    token = web.cookies.get("liuhen_session")
    assert token and token != "attacker-chosen"  # session fixation: the presented token is never adopted
    home = web.get("/ui/")
    assert home.status_code == 200 and "u_clerk" in home.text and home.headers["cache-control"] == "no-store"
    j = runtime.catalog.one("SELECT * FROM read_journal WHERE route = 'console.home' ORDER BY id DESC LIMIT 1")
    assert j is not None and j["user_name"] == "u_clerk"


def test_role_gates(web, users) -> None:  # type: ignore[no-untyped-def]
    login(web, users["external"])
    assert web.get("/ui/cases").status_code == 403
    assert web.get("/ui/admin").status_code == 403
    assert web.get("/ui/requests").status_code == 200


def test_cross_site_post_refused(web, users) -> None:  # type: ignore[no-untyped-def]
    login(web, users["supervisor"])
    page = web.get("/ui/requests")
    token = csrf_of(page.text)
    data = {"kind": "download", "sha256": "a" * 64, "purpose": "cross-site", "csrf": token}
    r = web.post("/ui/requests", data=data, headers={"origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    r = web.post("/ui/requests", data={**data, "csrf": "wrong"}, follow_redirects=False)
    assert r.status_code == 403


def test_lockout_after_failures_and_logout(web, users, runtime) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        assert login(web, users["reviewer"], "wrong-password-1").status_code == 401
    assert login(web, users["reviewer"], "wrong-password-1").status_code == 423  # third failure locks
    assert login(web, users["reviewer"], PASSWORD).status_code == 423  # even the right password, while locked
    kinds = [r["kind"] for r in runtime.catalog.all(
        "SELECT kind FROM console_auth_log WHERE user_name = 'u_reviewer' AND kind <> 'password_set' ORDER BY id")]
    assert kinds == ["failure", "failure", "failure", "lockout", "locked_attempt"]
    login(web, users["clerk"])
    token = web.cookies.get("liuhen_session")
    page = web.get("/ui/")
    r = web.post("/ui/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    # replaying the old cookie: the session has ended
    web.cookies.set("liuhen_session", token, domain="testserver.local", path="/")
    assert web.get("/ui/", follow_redirects=False).headers["location"].startswith("/ui/login")


def test_first_password_must_be_changed(web, runtime) -> None:  # type: ignore[no-untyped-def]
    from liuhen.console import accounts
    from liuhen.console.config import ConsoleSettings

    with runtime.catalog.tx() as conn:
        accounts.upsert_user(conn, name="newbie", role="clerk", unit_code=None)
        accounts.set_password(conn, user="newbie", password="Temporary-123", settings=ConsoleSettings(), actor="a")
    r = login(web, "newbie", "Temporary-123")
    assert r.headers["location"] == "/ui/password"
    assert web.get("/ui/cases", follow_redirects=False).headers["location"] == "/ui/password"
    page = web.get("/ui/password")
    r = web.post("/ui/password", data={"csrf": csrf_of(page.text), "old": "Temporary-123",
                                       "new": "My-own-secret-7", "again": "My-own-secret-7"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert login(web, "newbie", "My-own-secret-7").headers["location"] == "/ui/"


def test_case_subject_is_escaped(web, users, runtime) -> None:  # type: ignore[no-untyped-def]
    from liuhen.cases import service as cases

    cases.create_case(runtime, case_no="XSS-1", agency="A", subject="<script>alert(1)</script>",
                      case_type=cases.CASE_TYPES[0], actor="t")
    login(web, users["clerk"])
    page = web.get("/ui/cases/XSS-1")
    assert page.status_code == 200, page.text[:500]
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
