"""Real Chromium (Debian's, driven by Playwright): sign in, see only the role's pages, sign out; screenshots."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.console.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture
def server(runtime, csettings):  # type: ignore[no-untyped-def]
    import uvicorn

    from liuhen.api.app import create_app
    from liuhen.console.app import mount

    app = create_app(runtime)
    mount(app, runtime, settings=csettings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(10)


@pytest.fixture
def page():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        pg = context.new_page()
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def test_each_role_signs_in_and_sees_only_its_pages(server, users, page) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "clerk": {"/ui/dock", "/ui/cases", "/ui/files", "/ui/requests", "/ui/audit"},
        "external": {"/ui/requests", "/ui/bags", "/ui/audit"},
        "admin": {"/ui/dock", "/ui/oversight", "/ui/admin", "/ui/audit"},
    }
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(server + "/")
    assert page.url.startswith(server + "/ui/login")
    page.screenshot(path=str(SHOTS / "login.png"))
    for role, hrefs in expected.items():
        page.fill("[data-testid=login-user]", users[role])
        page.fill("[data-testid=login-password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(server + "/ui/")
        nav = {a.get_attribute("href") for a in page.query_selector_all("header nav a")}
        assert nav == hrefs, role
        if role == "clerk":
            page.screenshot(path=str(SHOTS / "home-clerk.png"))
            page.goto(server + "/ui/dock")
            page.wait_for_selector("[data-testid=dock-empty]")
            page.screenshot(path=str(SHOTS / "dock.png"))
        page.click("[data-testid=logout]")
        page.wait_for_url(server + "/ui/login")
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
