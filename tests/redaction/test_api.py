"""Redaction over HTTP (api/routes/redaction.py): roles, purpose + access event before bytes, approval."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
from skimage import data

from tests.api.conftest import bearer
from tests.redaction.conftest import run_redaction_jobs
from tests.transcoder.conftest import add_original


def test_draft_watch_approve_over_http(runtime, client, tokens, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), data.astronaut()[:, :, ::-1])
    add_original(runtime, photo, "photo")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    body = {"boxes": [{"t0_ms": 0, "t1_ms": 1, "x": 180, "y": 50, "w": 100, "h": 130},
                      {"t0_ms": 0, "t1_ms": 1, "x": 10, "y": 10, "w": 40, "h": 40}], "method": "blur"}

    r = client.post(f"/files/{sha}/redactions", json=body, headers=bearer(tokens["clerk"]))
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "draft" and r.json()["job"] == "queued" and r.json()["preview_sha256"] is None
    assert r.headers["location"] == f"/redactions/{r.json()['id']}"
    assert client.get(f"/redactions/{r.json()['id']}/copy", params={"purpose": "review redaction"},
                      headers=bearer(tokens["reviewer"])).status_code == 409  # nothing rendered yet
    run_redaction_jobs(runtime)  # the worker's actor renders and verifies it
    red = client.get(r.headers["location"], headers=bearer(tokens["clerk"])).json()
    assert red["state"] == "rendered" and red["job"] == "done" and red["verified"] is True
    assert red["created_by"] == "clerk"
    assert client.post(f"/files/{sha}/redactions", json=body, headers=bearer(tokens["external"])).status_code == 403
    bad = client.post(f"/files/{sha}/redactions", json={"method": "smear"}, headers=bearer(tokens["clerk"]))
    assert bad.status_code == 422

    rid = red["id"]
    assert [x["id"] for x in client.get(f"/files/{sha}/redactions", headers=bearer(tokens["reviewer"])).json()] == [rid]
    detail = client.get(f"/redactions/{rid}", headers=bearer(tokens["reviewer"])).json()
    assert len(detail["region_list"]["regions"]) == 2

    # watching the copy needs a purpose, and the access event is committed before the bytes
    assert client.get(f"/redactions/{rid}/copy", headers=bearer(tokens["reviewer"])).status_code == 428
    r = client.get(f"/redactions/{rid}/copy", params={"purpose": "review redaction"},
                   headers=bearer(tokens["reviewer"]))
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == red["preview_sha256"]
    ev = runtime.catalog.one("SELECT kind, purpose FROM access_events ORDER BY at DESC LIMIT 1")
    assert ev["kind"] == "stream" and ev["purpose"] == "review redaction"

    # an edited region list (one box removed) is a new draft
    edited = detail["region_list"]
    edited["regions"] = edited["regions"][:1]
    r2 = client.post(f"/files/{sha}/redactions", json={"regions": edited}, headers=bearer(tokens["reviewer"]))
    assert r2.status_code == 202
    wrong = {**edited, "media": {**edited["media"], "width": edited["media"]["width"] + 2}}
    r4 = client.post(f"/files/{sha}/redactions", json={"regions": wrong}, headers=bearer(tokens["reviewer"]))
    assert r4.status_code == 202  # the list is well-formed; only the worker sees it does not fit the file
    run_redaction_jobs(runtime)
    assert client.get(f"/redactions/{r2.json()['id']}", headers=bearer(tokens["reviewer"])).json()["regions"] == 1
    failed = client.get(f"/redactions/{r4.json()['id']}", headers=bearer(tokens["reviewer"])).json()
    assert failed["state"] == "failed" and failed["job"] == "failed" and "region list is for media" in failed["error"]
    broken = {**edited, "version": 9}
    r3 = client.post(f"/files/{sha}/redactions", json={"regions": broken}, headers=bearer(tokens["reviewer"]))
    assert r3.status_code == 422 and "version" in r3.text

    assert client.post(f"/redactions/{rid}/approve", headers=bearer(tokens["clerk"])).status_code == 403
    r = client.post(f"/redactions/{rid}/approve", headers=bearer(tokens["supervisor"]))
    assert r.status_code == 200 and r.json()["state"] == "final" and r.json()["approved_by"] == "supervisor"
    again = client.post(f"/redactions/{rid}/approve", headers=bearer(tokens["supervisor2"]))
    assert again.status_code == 409
    assert client.get("/redactions/999999", headers=bearer(tokens["clerk"])).status_code == 404
