"""The authenticated publication routes end to end: calendar load/status, register, evaluation, report, feed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.cases import service as cases


def test_routes(runtime: Any) -> None:
    tok = {r: issue_token(runtime, user=r, role=r, unit_code="U1", actor="a")[0] for r in ("admin", "supervisor")}
    h = {r: {"Authorization": f"Bearer {t}"} for r, t in tok.items()}
    cases.create_case(runtime, case_no="R-1", agency="A", subject="张三", case_type="levy", actor="c",
                      unit_code="U1")
    for stage in ("investigation", "review", "decision"):
        cases.advance_stage(runtime, "R-1", stage, "c")
    with TestClient(create_app(runtime)) as c:
        # the schema states what is taken: no checkpoint yet is a state conflict (409), not a malformed request
        none_yet = c.get("/feed/batches", headers=h["supervisor"])
        assert none_yet.status_code == 409 and "no checkpoint" in none_yet.json()["detail"]
        for body in ({"year": 2027, "workdays": [""]}, {"year": 2027, "source": "a\x00"}, {"year": True}):
            r = c.post("/calendar/years", json=body, headers=h["admin"])
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", body
        for body in ({"code": "X", "deduction": False, "message": "m"}, {"code": " ", "deduction": 1, "message": "m"}):
            assert c.post("/evaluation/cases/R-1/findings", json=body, headers=h["supervisor"]).status_code == 422
        no_conclusion = c.post("/publications/R-1/approve", json={}, headers=h["supervisor"])
        assert no_conclusion.status_code == 409 and "no conclusion yet" in no_conclusion.json()["detail"]
        bad = c.post("/calendar/years", json={"year": 2027, "workdays": ["2027-02-15"]}, headers=h["admin"])
        assert bad.status_code == 422 and "2027-02-15 is a Monday" in bad.json()["detail"]
        ok = c.post("/calendar/years", json={"year": 2027, "holidays": ["2027-01-01..2027-01-03"]},
                    headers=h["admin"])
        assert ok.status_code == 200 and ok.json()["holidays"] == 3
        st = {s["year"]: s for s in c.get("/calendar/status", headers=h["admin"]).json()}
        assert st.get(2027, {"basis": "loaded", "warning": None}) == {**st.get(2027, {}), "basis": "loaded",
                                                                      "warning": None}
        [p] = c.get("/publications?which=due", headers=h["supervisor"]).json()
        assert p["case_no"] == "R-1" and p["working_days"] == 20 and p["state"] == "due"
        ev = c.get("/evaluation/cases/R-1", headers=h["supervisor"]).json()
        assert ev["score"] == 100 and ev["unit_code"] == "U1"
        add = c.post("/evaluation/cases/R-1/findings", json={"code": "X", "deduction": 3, "message": "m"},
                     headers=h["supervisor"])
        assert add.status_code == 201 and add.json()["by"] == "supervisor"
        assert c.get("/evaluation/cases/R-1", headers=h["supervisor"]).json()["score"] == 97
        assert c.get("/evaluation/rollup?by=unit", headers=h["supervisor"]).json()[0]["mean_score"] == 97
        fig = c.get("/reports/annual?year=2026", headers=h["supervisor"]).json()
        assert fig["format"] == "liuhen.annual-report/v1" and fig["figures"]["cases_by_type"]["values"]["levy"] >= 0
        b = c.get("/feed/batches?cursor=v1:0:0&limit=3", headers=h["supervisor"]).json()
        assert (b["start"], b["end"], b["next_cursor"].split(":")[1]) == (0, 3, "3")
        assert c.get("/feed/batches?cursor=v9:x", headers=h["supervisor"]).status_code == 422
        assert "执法监督看板" in c.get("/dashboard/supervision", headers=h["supervisor"]).text
