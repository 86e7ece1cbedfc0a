"""cases/links.py: evidence holds survive unlinking (I4); only a supervisor releases one, never after a decision."""

from __future__ import annotations

import time

import pytest

from liuhen.cases import service as cases
from liuhen.cases.retention import dispose_expired
from liuhen.core.errors import Forbidden
from liuhen.storage.errors import ObjectLocked
from tests.api.conftest import bearer
from tests.api.helpers import store_file
from tests.cases.helpers import CLERK, SUP, events, expiring_file, new_case


def test_link_unlink_expire_the_disposal_job_keeps_the_evidence(runtime, media):
    evidence = expiring_file(runtime, media["h264_mp4"])
    control = expiring_file(runtime, media["h264_mp4_b"])  # never linked: must be disposed (the job works)
    new_case(runtime, "I4-1")
    ln = cases.link_clip(runtime, "I4-1", evidence["sha256"], stage="filing", actor="clerk1")
    out = cases.unlink(runtime, "I4-1", ln["id"], actor="clerk1", reason="not relevant")
    assert out["hold_released"] is False
    time.sleep(1.7)
    rep = dispose_expired(runtime.catalog, runtime.store, "retention-job")
    assert rep.disposed == [control["sha256"]]
    assert runtime.store.exists(evidence["storage_key"]) and runtime.store.head(evidence["storage_key"]).legal_hold
    assert [e["subject_sha256"] for e in events(runtime, "disposal")] == [control["sha256"]]
    assert events(runtime, "hold.release") == []


def test_release_is_a_supervisor_act_refused_once_the_case_was_decided(runtime, media, client, tokens):
    f = store_file(runtime, media["h264_mp4"])
    new_case(runtime, "I4-2")
    ln = cases.link_clip(runtime, "I4-2", f["sha256"], stage="filing", actor="clerk1")
    cases.unlink(runtime, "I4-2", ln["id"], actor="clerk1")
    for st in ("investigation", "review", "decision"):
        cases.advance_stage(runtime, "I4-2", st, "clerk1")
    url = f"/holds/{f['sha256']}/release"
    body = {"reason": "linked by mistake"}
    assert client.post(url, headers=bearer(tokens["clerk"]), json=body).status_code == 403
    with pytest.raises(Forbidden):
        cases.release_hold(runtime, f["sha256"], CLERK, "linked by mistake")
    r = client.post(url, headers=bearer(tokens["supervisor"]), json=body)
    assert r.status_code == 409 and "I4-2" in r.json()["detail"], r.text
    with pytest.raises(ObjectLocked, match="kept permanently"):
        cases.release_hold(runtime, f["sha256"], SUP, "linked by mistake")
    assert runtime.store.head(f["storage_key"]).legal_hold and events(runtime, "hold.release") == []


def test_supervisor_releases_the_hold_of_a_mistaken_link_over_http(runtime, media, client, tokens):
    f = store_file(runtime, media["h264_mp4"])
    new_case(runtime, "I4-3")
    ln = cases.link_clip(runtime, "I4-3", f["sha256"], stage="filing", actor="clerk1")
    url = f"/holds/{f['sha256']}/release"
    sup = bearer(tokens["supervisor"])
    assert client.post(url, headers=sup, json={"reason": "wrong clip"}).status_code == 409  # still linked
    cases.unlink(runtime, "I4-3", ln["id"], actor="clerk1")
    r = client.post(url, headers=sup, json={"reason": "wrong clip"})
    assert r.status_code == 200 and r.json()["released"] is True, r.text
    assert runtime.store.head(f["storage_key"]).legal_hold is False
    (ev,) = events(runtime, "hold.release")
    assert ev["actor"] == "supervisor" and ev["data"]["reason"] == "wrong clip" and "via" not in ev["data"]
