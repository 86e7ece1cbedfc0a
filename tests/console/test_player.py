"""Real Chromium: the supervised player (purpose before the first byte, Range seeking) and its refusals."""

from __future__ import annotations

import httpx

from tests.console.browser import shot, sign_in
from tests.console.conftest import PASSWORD


def test_reviewer_states_purpose_plays_and_seeks_over_range(server, users, page, scene, runtime) -> None:  # type: ignore[no-untyped-def]
    sha = scene["a"]["sha256"]
    server.recorder.throttle_bps = 2_000_000  # a station link, not loopback: Chromium cannot pre-buffer 7 s
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(f"{server.url}/ui/files/{sha}/play")
    assert page.locator("[data-testid=player]").count() == 0  # no <video> before a purpose
    assert server.recorder.footage(sha) == []
    page.fill("[data-testid=purpose]", "复核现场执法过程")
    page.click("[data-testid=purpose-submit]")
    video = page.locator("[data-testid=player]")
    video.wait_for()
    page.evaluate("v => { v.muted = true; return v.play(); }", video.element_handle())
    page.wait_for_function("() => document.querySelector('[data-testid=player]').currentTime > 0.5", timeout=20000)
    shot(page, "player")
    before = len(server.recorder.footage(sha))
    page.evaluate("v => { v.currentTime = 7; }", video.element_handle())
    page.wait_for_function("() => { const v = document.querySelector('[data-testid=player]');"
                           " return v.currentTime >= 7.0 && v.readyState >= 3; }", timeout=20000)
    hits = server.recorder.footage(sha)
    assert hits and hits[0].range is not None, "Chromium fetches media with Range"
    late = [h for h in hits[before:] if h.range and not h.range.startswith("bytes=0-")]
    assert late, f"after the seek to 7 s the server received a Range request from an offset: {hits}"
    # Chromium may have a request in flight when this looks: not answered yet, or headers without a byte
    answered = [h for h in hits if h.status is not None]
    assert all(h.status in (200, 206) for h in answered), hits
    # I5: the stream event was committed before the first byte of every response that sent one
    served = [h for h in answered if h.sent]
    assert served and all(h.stream_events_at_first_byte and h.stream_events_at_first_byte >= 1 for h in served), hits
    ev = runtime.catalog.all("SELECT * FROM access_events WHERE kind = 'stream' ORDER BY id")
    assert len(ev) == 1 and ev[0]["purpose"] == "复核现场执法过程" and ev[0]["user_name"] == users["reviewer"]
    assert runtime.catalog.one("SELECT type FROM log_events WHERE id = %s", (ev[0]["event_id"],))["type"] == \
        "access.stream"


def test_playback_refused_without_purpose_or_session(server, users, page, scene, browser_context) -> None:  # type: ignore[no-untyped-def]
    sha = scene["a"]["sha256"]
    head = scene["bytes_a"][:4096]
    # no session at all: the proxy URL ends at the login page, no footage byte
    with httpx.Client(follow_redirects=False) as c:
        r = c.get(f"{server.url}/ui/files/{sha}/proxy?grant=1")
        assert r.status_code == 303 and "/ui/login" in r.headers["location"] and head not in r.content
    # signed in, but no purpose stated: 428 page, nothing streamed, nothing logged as a view
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    for q in ("", "?grant=1", "?grant=abc"):
        resp = page.goto(f"{server.url}/ui/files/{sha}/proxy{q}")
        assert resp is not None and resp.status == 428 and head not in resp.body()
    # a grant stated by another session cannot be reused
    other = browser_context().new_page()
    sign_in(other, server.url, users["supervisor"], PASSWORD)
    other.goto(f"{server.url}/ui/files/{sha}/play")
    other.fill("[data-testid=purpose]", "监督检查")
    other.click("[data-testid=purpose-submit]")
    other.locator("[data-testid=player]").wait_for()
    grant = other.url.split("grant=")[1]
    resp = page.goto(f"{server.url}/ui/files/{sha}/proxy?grant={grant}")
    assert resp is not None and resp.status == 428 and head not in resp.body()
    served = [h for h in server.recorder.footage(sha) if h.status in (200, 206)]
    assert all(h.stream_events_at_first_byte for h in served)
