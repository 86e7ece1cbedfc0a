"""Real Chromium (Debian's, driven by Playwright): sign in, see only the role's pages, sign out; screenshots."""

from __future__ import annotations

from tests.console.browser import SHOTS
from tests.console.conftest import PASSWORD


def test_each_role_signs_in_and_sees_only_its_pages(server, users, page) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "clerk": {"/ui/dock", "/ui/cases", "/ui/files", "/ui/requests", "/ui/audit"},
        "external": {"/ui/requests", "/ui/bags", "/ui/audit"},
        "admin": {"/ui/dock", "/ui/oversight", "/ui/admin", "/ui/audit"},
    }
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/ui/login")
    page.screenshot(path=str(SHOTS / "login.png"))
    for role, hrefs in expected.items():
        page.fill("[data-testid=login-user]", users[role])
        page.fill("[data-testid=login-password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(server.url + "/ui/")
        nav = {a.get_attribute("href") for a in page.query_selector_all("header nav a")}
        assert nav == hrefs, role
        if role == "clerk":
            page.screenshot(path=str(SHOTS / "home-clerk.png"))
            page.goto(server.url + "/ui/dock")
            page.wait_for_selector("[data-testid=dock-empty]")
            page.screenshot(path=str(SHOTS / "dock.png"))
        page.click("[data-testid=logout]")
        page.wait_for_url(server.url + "/ui/login")
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
