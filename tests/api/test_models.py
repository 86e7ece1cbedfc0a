"""api/models.py: every date-time is bounded at the edge (422, never a 500); request bodies are strictly typed;
case numbers are path segments."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.api.conftest import bearer

CASE = {"agency": "区执法局", "subject": "某公司", "case_type": "penalty"}


def _case(client, tokens, case_no: str = "罚〔2024〕1号"):  # type: ignore[no-untyped-def]
    return client.post("/cases", headers=bearer(tokens["clerk"]), json={"case_no": case_no, **CASE})


@pytest.mark.parametrize(
    "starts_at",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z", "0", "1714986000", "0.5"],
)
def test_extreme_or_numeric_activity_times_are_422_not_500(client, tokens, starts_at: str) -> None:
    assert _case(client, tokens).status_code == 201
    r = client.post(
        "/cases/罚〔2024〕1号/activities",
        headers=bearer(tokens["clerk"]),
        json={"stage": "investigation", "kind": "seizure", "starts_at": starts_at, "ends_at": "2024-05-06T09:00:04Z"},
    )
    assert r.status_code == 422, r.text
    assert "starts_at" in r.text


def test_extreme_export_window_is_422(client, tokens) -> None:
    assert _case(client, tokens).status_code == 201
    r = client.post("/cases/罚〔2024〕1号/exports", headers=bearer(tokens["supervisor"]),
                    json={"request_id": 1, "t_to": "9999-12-31T23:59:59-14:00"})
    assert r.status_code == 422 and "t_to" in r.text


@pytest.mark.parametrize("until", ["0.5", "12", "9999-12-31T23:59:59-14:00"])
def test_query_date_times_are_date_times(client, tokens, until: str) -> None:
    r = client.get("/access/log", headers=bearer(tokens["supervisor"]), params={"until": until})
    assert r.status_code == 422, r.text
    assert client.get("/access/log", headers=bearer(tokens["supervisor"]),
                      params={"until": "2024-05-06T09:00:00+08:00"}).status_code == 200


@pytest.mark.parametrize("approve", [0, 1, "true", "yes"])
def test_approve_must_be_a_json_boolean(client, tokens, approve: object) -> None:
    r = client.post("/access/requests/1/decision", headers=bearer(tokens["supervisor"]), json={"approve": approve})
    assert r.status_code == 422 and "approve" in r.text


@pytest.mark.parametrize("case_no", ["罚/2024/1", "a\\b", ".", ".."])
def test_case_numbers_that_cannot_be_addressed_are_refused(client, tokens, case_no: str) -> None:
    r = _case(client, tokens, case_no)
    assert r.status_code == 422 and "case_no" in r.text
    assert client.get("/cases", headers=bearer(tokens["clerk"])).json() == []


@pytest.mark.parametrize(
    "case_no", ["京公（朝）行罚决字〔2024〕第123号", "ＡＢＣ１２３号", "罚 2024 #1?x=%2F", "案号／全角斜杠"]
)
def test_real_case_numbers_are_accepted_and_reachable(live, tokens, case_no: str) -> None:
    # over real HTTP (the test client decodes percent-escapes twice, which a real server does not)
    with httpx.Client(base_url=live.url, timeout=10) as c:
        assert _case(c, tokens, case_no).status_code == 201
        r = c.get(f"/cases/{quote(case_no, safe='')}", headers=bearer(tokens["clerk"]))
    assert r.status_code == 200 and r.json()["case_no"] == case_no
