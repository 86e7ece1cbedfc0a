"""Console fixtures: the API app with the console mounted, one signed-up user per role, Chromium, footage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liuhen.api.app import create_app
from liuhen.cases import service as cases
from liuhen.console import accounts
from liuhen.console.app import mount
from liuhen.console.config import ConsoleSettings
from liuhen.core import media as m
from tests.api.helpers import T0, add_derivative, store_file
from tests.console.browser import ARGS, CHROMIUM, LiveServer

ROLES = ("clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external")
PASSWORD = "Correct-Horse-9"  # satisfies the policy; users are created with must_change=False


@pytest.fixture
def csettings() -> ConsoleSettings:
    return ConsoleSettings(lockout_failures=3, lockout_minutes=15)


@pytest.fixture
def users(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with runtime.catalog.tx() as conn:
        for role in ROLES:
            accounts.upsert_user(conn, name=f"u_{role}", role=role, unit_code="U1")
            accounts.set_password(conn, user=f"u_{role}", password=PASSWORD, settings=ConsoleSettings(),
                                  must_change=False, actor="test")
    return {role: f"u_{role}" for role in ROLES}


@pytest.fixture
def web(runtime, csettings):  # type: ignore[no-untyped-def]
    app = create_app(runtime)
    mount(app, runtime, settings=csettings)
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as c:
        yield c


def login(client: Any, user: str, password: str = PASSWORD) -> Any:
    page = client.get("/ui/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client.post("/ui/login", data={"user": user, "password": password, "csrf": token},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    return html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


# ---- real browser ----------------------------------------------------------------------------------------

@pytest.fixture
def server(runtime, csettings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(runtime, csettings) as s:
        yield s


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A FRESH context per test (no media cache, no cookies shared with another test); ``.new()`` opens more."""
    made: list[Any] = []

    def new() -> Any:
        ctx = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
        made.append(ctx)
        return ctx

    yield new
    for ctx in made:
        ctx.close()


@pytest.fixture
def page(browser_context) -> Any:  # type: ignore[no-untyped-def]
    pg = browser_context().new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.errors = errors
    return pg


@pytest.fixture(scope="session")
def big_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two 20-s H.264/AAC MP4s (faststart); the first ≥ 10 MB so Chromium must use Range to seek."""
    d = tmp_path_factory.mktemp("bigmedia")
    a = m.make_video(d / "cam_a.mp4", seconds=20, width=640, height=360, bitrate="5M", seed=4)
    b = m.make_video(d / "cam_b.mp4", seconds=20, width=320, height=240, bitrate="600k", seed=5)
    assert a.stat().st_size >= 10_000_000, a.stat().st_size
    return {"a": a, "b": b}


@pytest.fixture
def scene(runtime, big_media, media) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Case SC-1 (stage investigation): an activity T0 … T0+40 s; camera A from T0, camera B from T0+3 s, both
    linked, so 23 … 40 s is a gap; each has its proxy (the file itself) and a thumbnail."""
    fa = store_file(runtime, big_media["a"], recorded_at=T0, duration_s=20.0, device_serial="DSJ-A")
    fb = store_file(runtime, big_media["b"], recorded_at=T0 + timedelta(seconds=3), duration_s=20.0,
                    officer_no="110002", device_serial="DSJ-B")
    for f, p in ((fa, big_media["a"]), (fb, big_media["b"])):
        add_derivative(runtime, f, p, "proxy", "video/mp4")
        add_derivative(runtime, f, media["jpg"], "thumbnail", "image/jpeg")
    cases.create_case(runtime, case_no="SC-1", agency="A", subject="现场执法", case_type=cases.CASE_TYPES[0],
                      actor="t")
    cases.advance_stage(runtime, "SC-1", "investigation", "t")
    act = cases.add_activity(runtime, "SC-1", stage="investigation", kind="onsite_inspection",
                             starts_at=T0, ends_at=T0 + timedelta(seconds=40), actor="t")
    for f in (fa, fb):
        cases.link_clip(runtime, "SC-1", f["sha256"], stage="investigation", activity_id=act["id"], actor="t")
    return {"a": fa, "b": fb, "activity": act, "bytes_a": big_media["a"].read_bytes()}
