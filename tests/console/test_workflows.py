"""Real Chromium: supervised download, the legal-review gate on 决定, the completeness gap, multi-camera sync."""

from __future__ import annotations

from pathlib import Path

from liuhen.cases import service as cases
from tests.console.browser import shot, sign_in
from tests.console.conftest import PASSWORD


def test_request_supervisor_approval_then_download(server, users, browser_context, scene, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sha = scene["a"]["sha256"]
    rev = browser_context().new_page()
    sign_in(rev, server.url, users["reviewer"], PASSWORD)
    rev.goto(server.url + "/ui/requests")
    rev.select_option("[data-testid=request-kind]", "download")
    rev.fill("[data-testid=request-files]", sha)
    rev.fill("[data-testid=request-reason]", "移送检察院")
    rev.click("[data-testid=request-submit]")
    assert rev.locator("[data-testid=download]").count() == 0  # pending: nothing to fetch yet
    sup = browser_context().new_page()
    sign_in(sup, server.url, users["supervisor"], PASSWORD)
    sup.goto(server.url + "/ui/inbox")
    shot(sup, "inbox")
    sup.click("[data-testid=approve]")
    sup.wait_for_url(server.url + "/ui/inbox")
    rev.goto(server.url + "/ui/requests")
    with rev.expect_download() as dl:
        rev.click("[data-testid=download]")
    out = Path(tmp_path / "got.mp4")
    dl.value.save_as(out)
    assert out.read_bytes() == scene["bytes_a"]


def test_legal_review_unlocks_decision_for_a_major_case(server, users, browser_context, runtime) -> None:  # type: ignore[no-untyped-def]
    cases.create_case(runtime, case_no="MJ-1", agency="A", subject="重大案件", case_type="penalty", major=True,
                      actor="t")
    for st in ("investigation", "review"):
        cases.advance_stage(runtime, "MJ-1", st, "t")
    clerk = browser_context().new_page()
    sign_in(clerk, server.url, users["clerk"], PASSWORD)
    clerk.goto(server.url + "/ui/cases/MJ-1")
    assert clerk.locator("[data-testid=advance-decision]").is_disabled()
    assert "未经法制审核或审核未通过的，不得作出决定" in clerk.locator("[data-testid=decision-blocked]").inner_text()
    shot(clerk, "case-decision-blocked")
    legal = browser_context().new_page()
    sign_in(legal, server.url, users["legal_reviewer"], PASSWORD)
    legal.goto(server.url + "/ui/cases/MJ-1")
    assert legal.locator("[data-testid^=advance-]").count() == 0  # a legal reviewer reviews, does not decide
    legal.fill("[data-testid=review-opinion]", "事实清楚，证据确实充分，同意。")
    legal.check("[data-testid=review-approved]")
    legal.click("[data-testid=review-submit]")
    assert "u_legal_reviewer" in legal.locator("[data-testid=legal-review]").inner_text()
    clerk.reload()
    assert clerk.locator("[data-testid=decision-blocked]").count() == 0
    clerk.click("[data-testid=advance-decision]")
    clerk.wait_for_url(server.url + "/ui/cases/MJ-1")
    assert cases.get_case(runtime, "MJ-1")["stage"] == "decision"


def test_completeness_gap_appears_on_the_timeline(server, users, page, scene) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(server.url + "/ui/cases/SC-1")
    tl = page.locator(f"[data-testid=timeline-{scene['activity']['id']}]")
    gap = tl.locator("[data-testid=gap]")
    assert gap.count() == 1
    # the activity runs 40 s, footage ends at 23 s: the gap is the last 17/40 of the span's width
    span_w = float(tl.locator("rect.span").get_attribute("width"))
    assert abs(float(gap.get_attribute("width")) / span_w - 17 / 40) < 0.01
    assert tl.locator("rect.seg").count() == 2
    shot(page, "case-completeness")


def test_multicam_stays_in_sync_after_a_seek(server, users, page, scene) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, server.url, users["reviewer"], PASSWORD)
    page.goto(f"{server.url}/ui/cases/SC-1/activities/{scene['activity']['id']}/multicam")
    page.fill("[data-testid=purpose]", "多机位比对")
    page.click("[data-testid=purpose-submit]")
    page.locator("[data-testid=cam]").first.wait_for()
    assert page.locator("[data-testid=cam]").count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=cam]')].every(v => v.readyState >= 1)",
                           timeout=20000)
    page.click("[data-testid=mc-play]")
    page.wait_for_timeout(1000)
    page.evaluate("() => window.liuhenMulticam.seek(10)")
    page.wait_for_timeout(1500)
    state = page.evaluate("""() => [...document.querySelectorAll('[data-testid=cam]')].map(v => ({
        t: v.currentTime, start: Number(v.dataset.startMs), paused: v.paused}))""")
    pos = page.evaluate("() => window.liuhenMulticam.position()")
    assert pos > 10.5
    a, b = state  # camera B started 3 s after camera A
    assert b["start"] - a["start"] == 3000
    assert not a["paused"] and not b["paused"]
    assert abs((a["t"]) - (b["t"] + 3.0)) < 0.5, state  # same corrected recording instant
    assert abs(a["t"] - pos) < 0.5, (state, pos)
    shot(page, "multicam")
