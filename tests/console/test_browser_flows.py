"""Real Chromium: the dock view during a real offload (a recorder docked into a watched dock), the audit page's
inclusion proof checked by the page itself, purpose-gated search thumbnails, mark in/out → link a range, and
XSS / CSRF / lockout / logout in the browser; screenshots at 1366×768 and 1920×1080."""

from __future__ import annotations

import threading
from typing import Any

from liuhen.cases import service as cases
from liuhen.ingest.watch import DockWatcher
from liuhen.integrity import checkpoint
from liuhen.integrity import log as audit_log
from tests.console.browser import shot, sign_in
from tests.console.conftest import PASSWORD
from tests.ingest.helpers import make_recorder


class Pacer:
    """A ProgressSink that holds the offload while its first file is being copied, until the test lets it go.

    (A recorder's files are registered in batches, so the page goes from 0/3 stored straight to 3/3; the
    moment to look at is while the bytes are moving and nothing is stored yet.)"""

    def __init__(self) -> None:
        self.first_done = threading.Event()
        self.go = threading.Event()

    def recorder_started(self, key: str, label: str, files: int, nbytes: int) -> None: ...

    def advance(self, key: str, nbytes: int) -> None:
        if not self.first_done.is_set():
            self.first_done.set()
            self.go.wait(60)

    def file_done(self, key: str, path: str, status: str) -> None: ...

    def recorder_finished(self, key: str, receipt: Any) -> None: ...


def test_dock_view_during_a_real_offload(server, users, page, runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dock = tmp_path / "dock"
    dock.mkdir()
    sign_in(page, server.url, users["clerk"], PASSWORD)
    page.goto(server.url + "/ui/dock")
    page.wait_for_selector("[data-testid=dock-empty]")
    pacer = Pacer()
    with DockWatcher(runtime, [dock], interval=0.2, progress=pacer, actor="dock:test"):
        make_recorder(dock / "port01", "SN0007", "110107", n=3, size=300_000)  # the recorder is docked
        assert pacer.first_done.wait(30)
        card = page.locator("[data-testid=port]")
        card.wait_for(timeout=10000)
        page.wait_for_function("() => document.querySelector('[data-testid=port-progress]')?.textContent"
                               ".startsWith('0/3')", timeout=10000)
        assert card.get_attribute("data-safe") == "false"
        assert "不可清除" in page.locator("[data-testid=port-state]").inner_text()
        page.wait_for_function("() => document.querySelectorAll('[data-testid=port-reasons] li').length === 3",
                               timeout=10000)
        reasons = page.locator("[data-testid=port-reasons] li").all_inner_texts()
        assert len(reasons) == 3 and all("尚未存储" in r for r in reasons), reasons  # nothing stored yet
        states = page.locator("[data-testid=port-files] li").evaluate_all("ls => ls.map(l => l.dataset.status)")
        assert sorted(states) == ["pending", "pending", "pending"], states
        shot(page, "dock-offloading")
        pacer.go.set()
        page.wait_for_function("() => document.querySelector('[data-testid=port]')?.dataset.safe === 'true'",
                               timeout=30000)
    assert page.locator("[data-testid=port-state]").inner_text() == "可以清除"
    assert page.locator("[data-testid=port-reasons]").count() == 0
    assert page.locator("[data-testid=port-progress]").inner_text().startswith("3/3")
    shot(page, "dock")


def test_audit_page_proves_an_event_in_the_browser(server, users, browser_context, scene, runtime) -> None:  # type: ignore[no-untyped-def]
    audit_log.sequence(runtime.catalog)
    checkpoint.publish(runtime.catalog, runtime.settings, force=True)
    page = browser_context().new_page()
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(server.url + "/ui/cases/SC-1")  # a case event links to its log index
    page.locator("[data-testid=case-events] [data-testid=event-index]").last.click()
    page.wait_for_selector("[data-testid=proof]")
    assert "服务器已根据检查点验证" in page.locator("[data-testid=proof-server]").inner_text()
    page.wait_for_function("() => document.querySelector('[data-testid=proof-browser]').dataset.verified",
                           timeout=10000)
    assert page.locator("[data-testid=proof-browser]").get_attribute("data-verified") == "yes"
    assert "已用受信任公钥验证" in page.locator("[data-testid=checkpoint-signature]").inner_text()
    shot(page, "audit-proof-1920")
    # a tampered page (the checkpoint's root changed) is caught by the browser's own check
    page.evaluate("""() => { const d = document.getElementById('checkpoint-note');
        const lines = d.textContent.split('\\n'); lines[2] = btoa('x'.repeat(32));
        d.textContent = lines.join('\\n'); }""")
    page.add_script_tag(url=server.url + "/ui/static/audit.js?again", type="module")
    page.wait_for_function("() => document.querySelector('[data-testid=proof-browser]').dataset.verified === 'no'",
                           timeout=10000)
    # a clerk sees the checkpoint but no leaves (the one table: audit.inclusion)
    clerk = browser_context().new_page()
    sign_in(clerk, server.url, users["clerk"], PASSWORD)
    clerk.goto(server.url + "/ui/audit?index=0")
    assert clerk.locator("[data-testid=checkpoint]").count() == 1 and clerk.locator("[data-testid=proof]").count() == 0


def test_search_thumbnails_only_after_a_purpose(server, users, page, scene, runtime) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(server.url + "/ui/files")
    assert page.locator("[data-testid=result]").count() == 2
    assert page.locator("[data-testid=thumb]").count() == 0
    assert not [h for h in server.recorder.hits if "/thumbnails/" in h.path]
    page.fill("[data-testid=thumbs-purpose]", "查找现场检查录像")
    page.click("[data-testid=thumbs-purpose-submit]")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=thumb]')].length === 2 && "
                           "[...document.querySelectorAll('[data-testid=thumb]')].every(i => i.naturalWidth > 0)",
                           timeout=15000)
    hits = [h for h in server.recorder.hits if "/thumbnails/" in h.path and h.status == 200]
    assert len(hits) == 2 and all(h.stream_events_at_first_byte for h in hits)
    ev = runtime.catalog.all("SELECT * FROM access_events WHERE kind = 'view' ORDER BY id")
    assert len(ev) == 2 and {e["purpose"] for e in ev} == {"查找现场检查录像"}
    page.click("[data-testid=search-submit]")  # the purpose covers the session's next searches
    page.wait_for_selector("[data-testid=thumbs-on]")
    shot(page, "search-thumbnails")
    page.click("[data-testid=thumbs-off]")
    page.wait_for_selector("[data-testid=thumbs-form]")
    assert page.locator("[data-testid=thumb]").count() == 0


def test_mark_in_out_links_a_range_to_an_activity(server, users, page, scene, runtime) -> None:  # type: ignore[no-untyped-def]
    sha = scene["b"]["sha256"]
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(f"{server.url}/ui/files/{sha}/play")
    page.fill("[data-testid=purpose]", "截取关键片段")
    page.click("[data-testid=purpose-submit]")
    video = page.locator("[data-testid=player]")
    video.wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=player]').readyState >= 1", timeout=20000)
    for t, button in ((2.0, "mark-in"), (6.5, "mark-out")):
        page.evaluate(f"v => {{ v.currentTime = {t}; }}", video.element_handle())
        page.wait_for_function(f"() => Math.abs(document.querySelector('[data-testid=player]').currentTime - {t}) "
                               "< 0.05 && document.querySelector('[data-testid=player]').readyState >= 2")
        page.click(f"[data-testid={button}]")
    assert page.locator("[data-testid=marked]").inner_text() == "2.0 s → 6.5 s"
    page.fill("[data-testid=link-case]", "SC-1")
    page.fill("[data-testid=link-activity]", str(scene["activity"]["id"]))
    page.fill("[data-testid=link-proves]", "当事人拒绝检查的过程")
    page.click("[data-testid=link-submit]")
    page.wait_for_url(server.url + "/ui/cases/SC-1")
    row = runtime.catalog.one("SELECT l.* FROM links l JOIN files f ON f.id = l.file_id WHERE f.sha256 = %s "
                              "AND l.proves IS NOT NULL", (sha,))
    assert row is not None and row["activity_id"] == scene["activity"]["id"]
    assert abs(row["t_start_s"] - 2.0) < 0.05 and abs(row["t_end_s"] - 6.5) < 0.05


def test_xss_csrf_lockout_logout_in_the_browser(server, users, browser_context, runtime) -> None:  # type: ignore[no-untyped-def]
    cases.create_case(runtime, case_no="XSS-2", agency="A", subject="<img src=x onerror=\"window.pwned=1\">"
                      "<script>window.pwned=2</script>", case_type=cases.CASE_TYPES[0], actor="t")
    page = browser_context().new_page()
    sign_in(page, server.url, users["clerk"], PASSWORD)
    page.goto(server.url + "/ui/cases/XSS-2")
    assert page.evaluate("() => window.pwned") is None  # inert: shown as text
    assert "<script>window.pwned=2</script>" in page.locator("[data-testid=case-subject]").inner_text()
    # CSRF: a form on another origin (a second local server's page) posting to the console is refused
    evil = browser_context().new_page()
    evil.route("http://evil.example/", lambda r: r.fulfill(content_type="text/html", body=(
        f'<form id=f method=post action="{server.url}/ui/requests"><input name=kind value=download>'
        f'<input name=sha256 value={"a" * 64}><input name=purpose value=x></form>')))
    ctx_page = page.context.new_page()  # same browser context: the session cookie exists here
    ctx_page.route("http://evil.example/", lambda r: r.fulfill(content_type="text/html", body=(
        f'<form id=f method=post action="{server.url}/ui/requests"><input name=kind value=download>'
        f'<input name=sha256 value={"a" * 64}><input name=purpose value=cross-site></form>')))
    ctx_page.goto("http://evil.example/")
    with ctx_page.expect_navigation():
        ctx_page.evaluate("() => document.getElementById('f').submit()")
    assert ctx_page.url.startswith(server.url)
    assert runtime.catalog.one("SELECT count(*) AS n FROM access_requests WHERE purpose = 'cross-site'")["n"] == 0
    page.goto(server.url + "/ui/cases")  # and the refused request did not sign the clerk out
    assert page.url == server.url + "/ui/cases"
    # logout ends the session: back button / old URL leads to the login page
    page.click("[data-testid=logout]")
    page.wait_for_url(server.url + "/ui/login")
    page.goto(server.url + "/ui/cases")
    assert page.url.startswith(server.url + "/ui/login")
    # lockout: three wrong passwords (csettings), then even the right one is refused with the lock message
    lock = browser_context().new_page()
    for _ in range(3):
        lock.goto(server.url + "/ui/login")
        lock.fill("[data-testid=login-user]", users["reviewer"])
        lock.fill("[data-testid=login-password]", "wrong-password-1")
        lock.click("[data-testid=login-submit]")
        lock.wait_for_selector("[data-testid=login-error]")
    lock.fill("[data-testid=login-password]", PASSWORD)
    lock.click("[data-testid=login-submit]")
    assert "锁定" in lock.locator("[data-testid=login-error]").inner_text()
    assert lock.url.startswith(server.url + "/ui/login")
    shot(lock, "login-locked")
    evil.close()
