"""The anonymous public feed serves only approved, masked texts that are out — and nothing else."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.cases import service as cases

SECRETS = ("诸葛明远", "11010519491231002X", "13812345678", "19491231")
CONCLUSION = "当事人诸葛明远（身份证号11010519491231002X，电话13812345678）违法经营，罚款2000元。"


def _decided(rt: Any, no: str) -> None:
    cases.create_case(rt, case_no=no, agency="某区市场监督管理局", subject="诸葛明远", case_type="penalty",
                      actor="clerk")
    for stage in ("investigation", "review", "decision"):
        cases.advance_stage(rt, no, stage, "clerk")


def test_only_approved_masked_published_text_is_served_anonymously(runtime: Any) -> None:
    for no in ("P-1", "P-2", "P-3"):
        _decided(runtime, no)
    sup, _ = issue_token(runtime, user="sup", role="supervisor", unit_code=None, actor="admin")
    auth = {"Authorization": f"Bearer {sup}"}
    with TestClient(create_app(runtime)) as c:
        assert c.get("/public/publications").json() == []  # decided but nothing approved or out yet
        for no in ("P-1", "P-2", "P-3"):
            r = c.post(f"/publications/{no}/approve", json={"conclusion": CONCLUSION}, headers=auth)
            assert r.status_code == 200, r.text
        leak = c.post("/publications/P-1/approve", json={"text": "当事人：诸葛明远\n"}, headers=auth)
        assert leak.status_code == 422 and "诸葛明远" in leak.json()["detail"]
        for no in ("P-1", "P-2"):
            assert c.post(f"/publications/{no}/publish", headers=auth).json()["state"] == "published"
        assert c.post("/publications/P-2/revoke", json={"reason": "复议撤销"}, headers=auth).status_code == 200
        items = c.get("/public/publications").json()
        page = c.get("/public/publications.html")
        # anonymous callers reach nothing else: the register, drafts, the feed, the calendar
        for path in ("/publications", "/feed/batches", "/calendar/status", "/reports/annual?year=2026"):
            assert c.get(path).status_code == 401, path
        assert c.post("/publications/P-3/publish").status_code == 401
    assert [i["case_no"] for i in items] == ["P-1"]  # P-2 revoked, P-3 approved but not published
    assert "当事人：诸葛○" in items[0]["text"] and "110105********002X" in items[0]["text"]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "P-1" in page.text and "P-2" not in page.text and "P-3" not in page.text
    for secret in SECRETS:
        assert secret not in str(items) and secret not in page.text
