"""Real Chromium: a reviewer drafts a redaction on the player (draws a box, marks its range, mutes a range),
the render job runs on worker threads, the preview plays only under a stated purpose, a supervisor approves."""

from __future__ import annotations

from tests.console.browser import sign_in
from tests.console.conftest import PASSWORD
from tests.redaction.conftest import run_redaction_jobs


def _state_purpose(pg, url: str, why: str) -> None:  # type: ignore[no-untyped-def]
    pg.goto(url)
    pg.fill("[data-testid=purpose]", why)
    pg.click("[data-testid=purpose-submit]")
    pg.locator("[data-testid=player]").wait_for()


def test_draft_preview_approve_in_the_browser(server, users, page, scene, runtime,  # type: ignore[no-untyped-def]
                                              browser_context) -> None:
    sha = scene["a"]["sha256"]
    url = f"{server.url}/ui/files/{sha}/redact"
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(f"{server.url}/ui/redactions")
    assert page.locator("nav a[href$='/redactions']").count() == 1
    page.goto(url)
    assert page.locator("[data-testid=player]").count() == 0  # purpose first, like the player
    _state_purpose(page, url, "披露前遮蔽旁观者")
    page.wait_for_function("() => document.querySelector('[data-testid=player]').videoWidth > 0", timeout=20000)
    # the drawing canvas is fitted to the picture once its size is known (also when that was before the script)
    page.wait_for_function("() => document.getElementById('draw').width === "
                           "document.querySelector('[data-testid=player]').clientWidth")
    # draw a box: the canvas covers the picture; 640×360 footage shown at the video's CSS size
    cb = page.locator("[data-testid=draw]").bounding_box()
    assert cb is not None
    vw = page.evaluate("() => document.querySelector('[data-testid=player]').clientWidth")
    k = vw / 640
    page.mouse.move(cb["x"] + 100 * k, cb["y"] + 50 * k)
    page.mouse.down()
    page.mouse.move(cb["x"] + 200 * k, cb["y"] + 100 * k, steps=5)
    page.mouse.move(cb["x"] + 260 * k, cb["y"] + 170 * k, steps=5)
    page.mouse.up()
    for t, button in ((1, "mark-in"), (4, "mark-out")):
        page.evaluate(f"() => {{ document.querySelector('[data-testid=player]').currentTime = {t}; }}")
        page.wait_for_function(f"() => document.querySelector('[data-testid=player]').currentTime >= {t}")
        page.click(f"[data-testid={button}]")
    assert page.locator("[data-testid=marked]").inner_text() == "1.0 s → 4.0 s"
    page.select_option("[data-testid=method]", "fill")
    page.fill("[data-testid=mutes]", "2-3")
    page.click("[data-testid=redact-submit]")
    row = runtime.catalog.one("SELECT id, state, params FROM redactions")
    rid = row["id"]
    assert row["state"] == "draft" and row["params"]["job"]["status"] == "queued"
    assert page.locator(f"[data-testid=state-{rid}]").inner_text() in ("draft", "草稿")
    req = row["params"]["job"]["request"]
    [(t0, t1, (x, y, w, h))] = req["boxes"]
    assert (t0, t1) == (1000, 4000) and req["mutes"] == [[2000, 3000]] and req["method"] == "fill"
    assert abs(x - 100) <= 3 and abs(y - 50) <= 3 and abs(w - 160) <= 4 and abs(h - 120) <= 4, req["boxes"]

    run_redaction_jobs(runtime)  # the dramatiq actor renders and verifies it
    page.reload()
    assert page.locator(f"[data-testid=state-{rid}]").inner_text() in ("rendered", "已生成")
    assert page.locator(f"[data-testid=approve-{rid}]").count() == 0  # a reviewer cannot approve
    preview = page.locator(f"[data-testid=preview-{rid}]")
    page.wait_for_function(f"() => document.querySelector('[data-testid=preview-{rid}]').readyState >= 1",
                           timeout=20000)
    assert preview.count() == 1
    ev = runtime.catalog.all("SELECT purpose FROM access_events WHERE kind = 'stream' AND user_name = %s",
                             (users["reviewer"],))
    assert ev and all(e["purpose"] == "披露前遮蔽旁观者" for e in ev)
    # the preview URL without this session's purpose grant is refused
    resp = page.goto(f"{server.url}/ui/redactions/{rid}/preview?grant=999999")
    assert resp is not None and resp.status == 428

    sup = browser_context().new_page()
    sign_in(sup, server.url, users["supervisor"], PASSWORD)
    _state_purpose(sup, url, "审核遮蔽副本")
    sup.click(f"[data-testid=approve-{rid}]")
    assert sup.locator(f"[data-testid=state-{rid}]").inner_text() in ("final", "已批准")
    final = runtime.catalog.one("SELECT state, approved_by, derivative_id FROM redactions WHERE id = %s", (rid,))
    assert final["state"] == "final" and final["approved_by"] == users["supervisor"] and final["derivative_id"]
