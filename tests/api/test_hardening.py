"""Review fixes: evidence holds survive unlinking (I4), legal reviews need a legal reviewer, CLI events say
who really ran them, one event per download (I5), approvals do not widen, recording-list changes are
audited, every CLI parameter has help text."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liuhen.api.auth import issue_token
from liuhen.cases import access
from liuhen.cases import service as cases
from liuhen.cases.errors import ApprovalRequired
from liuhen.cases.principal import Principal
from liuhen.cases.retention import dispose_expired
from liuhen.core.errors import Forbidden
from liuhen.integrity import events
from liuhen.integrity.events import EVENT_TYPES
from liuhen.storage.base import key_for
from liuhen.storage.errors import ObjectLocked
from tests.api.conftest import bearer
from tests.api.helpers import store_file

SUP = Principal("sup1", "supervisor", "U1")
CLERK = Principal("clerk1", "clerk", "U1")


def _events(runtime: Any, type_: str) -> list[dict[str, Any]]:
    rows = runtime.catalog.all("SELECT * FROM log_events WHERE type = %s ORDER BY id", (type_,))
    for r in rows:
        r["data"] = json.loads(bytes(r["body"]))["data"]
    return rows


def _expiring(runtime: Any, path: Path, seconds: float = 1.5) -> dict[str, Any]:
    """Store ``path`` as an original whose retention runs out in ``seconds`` (store) / has run out (catalog)."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = key_for(sha)
    runtime.store.put(
        key, path, sha256=sha, size=len(data), retain_until=datetime.now(UTC) + timedelta(seconds=seconds)
    )
    row = runtime.catalog.one(
        "INSERT INTO files (sha256, size, media_kind, storage_key, retention_until, media_status) "
        "VALUES (%s, %s, 'video', %s, now() - interval '1 second', 'ok') RETURNING *",
        (sha, len(data), key),
    )
    assert row is not None
    return row


def _case(runtime: Any, no: str, **kw: Any) -> None:
    cases.create_case(runtime, case_no=no, agency="A", subject="S", case_type="penalty", actor="clerk1", **kw)


# 1. I4 — unlinking never releases a hold; the disposal job keeps former evidence


def test_link_unlink_expire_the_disposal_job_keeps_the_evidence(runtime, media):
    evidence = _expiring(runtime, media["h264_mp4"])
    control = _expiring(runtime, media["h264_mp4_b"])  # never linked: must be disposed (the job works)
    _case(runtime, "I4-1")
    ln = cases.link_clip(runtime, "I4-1", evidence["sha256"], stage="filing", actor="clerk1")
    out = cases.unlink(runtime, "I4-1", ln["id"], actor="clerk1", reason="not relevant")
    assert out["hold_released"] is False
    time.sleep(1.7)
    rep = dispose_expired(runtime.catalog, runtime.store, "retention-job")
    assert rep.disposed == [control["sha256"]]
    assert runtime.store.exists(evidence["storage_key"]) and runtime.store.head(evidence["storage_key"]).legal_hold
    assert [e["subject_sha256"] for e in _events(runtime, "disposal")] == [control["sha256"]]
    assert _events(runtime, "hold.release") == []


def test_release_is_a_supervisor_act_refused_once_the_case_was_decided(runtime, media, client, tokens):
    f = store_file(runtime, media["h264_mp4"])
    _case(runtime, "I4-2")
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
    assert runtime.store.head(f["storage_key"]).legal_hold and _events(runtime, "hold.release") == []


def test_supervisor_releases_the_hold_of_a_mistaken_link_over_http(runtime, media, client, tokens):
    f = store_file(runtime, media["h264_mp4"])
    _case(runtime, "I4-3")
    ln = cases.link_clip(runtime, "I4-3", f["sha256"], stage="filing", actor="clerk1")
    url = f"/holds/{f['sha256']}/release"
    sup = bearer(tokens["supervisor"])
    assert client.post(url, headers=sup, json={"reason": "wrong clip"}).status_code == 409  # still linked
    cases.unlink(runtime, "I4-3", ln["id"], actor="clerk1")
    r = client.post(url, headers=sup, json={"reason": "wrong clip"})
    assert r.status_code == 200 and r.json()["released"] is True, r.text
    assert runtime.store.head(f["storage_key"]).legal_hold is False
    (ev,) = _events(runtime, "hold.release")
    assert ev["actor"] == "supervisor" and ev["data"]["reason"] == "wrong clip" and "via" not in ev["data"]


# 3. legal reviews need a legal reviewer, in the service itself; CLI events name the OS user


def test_record_legal_review_requires_a_legal_reviewer_principal(runtime):
    _case(runtime, "LR-1", major=True)
    for st in ("investigation", "review"):
        cases.advance_stage(runtime, "LR-1", st, "clerk1")
    for reviewer in ("cli:root", "legal:赵敏", CLERK, SUP, Principal("adm", "admin")):
        with pytest.raises(Forbidden):
            cases.record_legal_review(runtime, "LR-1", reviewer=reviewer, opinion="同意", approved=True)  # type: ignore[arg-type]
    assert _events(runtime, "legal_review") == []
    row = cases.record_legal_review(
        runtime, "LR-1", reviewer=Principal("legal:赵敏", "legal_reviewer"), opinion="同意", approved=True
    )
    assert row["reviewer"] == "legal:赵敏"
    assert cases.advance_stage(runtime, "LR-1", "decision", "clerk1")["stage"] == "decision"


def test_cli_review_needs_a_legal_reviewer_and_cli_events_carry_the_os_user(runtime, settings, monkeypatch):
    import liuhen.wiring
    from liuhen.cli import app
    from liuhen.integrity.events import os_user as _os_user

    monkeypatch.setattr(liuhen.wiring, "get_settings", lambda: settings)
    run = CliRunner().invoke
    for user, role in (("zhao", "legal_reviewer"), ("li", "clerk"), ("wang", "supervisor")):
        issue_token(runtime, user=user, role=role, actor="test-admin")
    _case(runtime, "CLI-LR", major=True)
    for st in ("investigation", "review"):
        cases.advance_stage(runtime, "CLI-LR", st, "clerk1")
    review = ["case", "review", "CLI-LR", "--opinion", "同意", "--approve"]
    assert run(app, review).exit_code != 0  # --as is required
    res = run(app, [*review, "--as", "li"])
    assert res.exit_code != 0 and isinstance(res.exception, Forbidden)
    res = run(app, [*review, "--as", "nobody"])
    assert res.exit_code != 0
    assert _events(runtime, "legal_review") == []
    res = run(app, [*review, "--as", "zhao", "--json"])
    assert res.exit_code == 0, res.output
    (ev,) = _events(runtime, "legal_review")
    assert ev["actor"] == "zhao" and ev["data"]["via"] == "cli" and ev["data"]["os_user"] == _os_user()
    # an approval made with --as still shows who ran the command
    req = access.create_request(runtime, CLERK, kind="export", purpose="移送法院", case_no="CLI-LR")
    assert run(app, ["access", "approve", str(req["id"]), "--as", "wang"]).exit_code == 0
    (ap,) = _events(runtime, "access.approval")
    assert ap["actor"] == "wang" and ap["data"]["via"] == "cli" and ap["data"]["os_user"] == _os_user()
    # events recorded outside a CLI command (HTTP, in-process) carry no CLI marker: it does not leak
    assert "via" not in _events(runtime, "access.request")[0]["data"]


# 4. I5 — one event per download; only view/stream requests of one playback share an event


def test_every_download_is_its_own_event_streams_share_one(runtime, media):
    f = store_file(runtime, media["h264_mp4"])
    who = Principal("rev", "reviewer", "U1", token_id=None)
    d1 = access.ensure_access_recorded(runtime, who, "download", purpose="复议", file=f, request_id=7)
    d2 = access.ensure_access_recorded(runtime, who, "download", purpose="复议", file=f, request_id=7)
    assert d1 != d2
    s1 = access.ensure_access_recorded(runtime, who, "stream", purpose="复核", file=f)
    s2 = access.ensure_access_recorded(runtime, who, "stream", purpose="复核", file=f)
    assert s1 == s2
    kinds = [r["kind"] for r in runtime.catalog.all("SELECT kind FROM access_events ORDER BY id")]
    assert kinds == ["download", "download", "stream"]


def test_bulk_downloads_of_one_file_are_flagged(runtime, media):
    f = store_file(runtime, media["h264_mp4"])
    who = Principal("rev", "reviewer", "U1")
    for _ in range(4):
        access.ensure_access_recorded(runtime, who, "download", purpose="复议", file=f, request_id=1)
    flags = access.unusual(runtime, bulk_downloads=3)
    assert [(x["flag"], x["count"]) for x in flags] == [("bulk_download", 4)]


# 5. a case-scoped download approval covers the clips linked when it was approved, no more


def test_case_download_approval_does_not_widen(runtime, media):
    a = store_file(runtime, media["h264_mp4"])
    b = store_file(runtime, media["h264_mp4_b"])
    _case(runtime, "AP-1")
    cases.link_clip(runtime, "AP-1", a["sha256"], stage="filing", actor="clerk1")
    rev = Principal("rev", "reviewer", "U1")
    req = access.create_request(runtime, rev, kind="download", purpose="行政诉讼", case_no="AP-1")
    approved = access.decide(runtime, req["id"], SUP, approve=True)
    assert approved["file_sha256"] == [a["sha256"]]
    cases.link_clip(runtime, "AP-1", b["sha256"], stage="filing", actor="clerk1")  # linked after approval
    access.require_approved(runtime, req["id"], rev, kind="download", sha256=a["sha256"])
    with pytest.raises(ApprovalRequired, match="does not cover"):
        access.require_approved(runtime, req["id"], rev, kind="download", sha256=b["sha256"])
    (ap,) = _events(runtime, "access.approval")
    assert ap["data"]["files"] == [a["sha256"]]


# 6. recording-list changes are audited in the same transaction


def _register(monkeypatch: pytest.MonkeyPatch, registered: bool) -> None:

    types = set(EVENT_TYPES) | {"recording_list.change"} if registered else set(EVENT_TYPES) - {"recording_list.change"}
    monkeypatch.setattr(events, "EVENT_TYPES", frozenset(types))
    monkeypatch.setattr(cases, "EVENT_TYPES", frozenset(types))


def test_recording_list_change_is_audited(runtime, client, tokens, monkeypatch):
    _register(monkeypatch, True)
    item = {"kind": "seizure", "recording": "av_as_needed", "label": "查封扣押"}
    r = client.put("/recording-list", headers=bearer(tokens["admin"]), json=item)
    assert r.status_code == 200, r.text
    now = runtime.catalog.one("SELECT recording FROM recording_list WHERE kind = 'seizure'")
    assert now["recording"] == "av_as_needed"
    (ev,) = _events(runtime, "recording_list.change")
    assert ev["actor"] == "admin" and ev["data"]["before"] == {"recording": "full_av", "label": "查封扣押"}
    assert ev["data"]["recording"] == "av_as_needed"


def test_recording_list_change_is_refused_while_it_cannot_be_audited(runtime, client, tokens, monkeypatch):
    _register(monkeypatch, False)
    item = {"kind": "seizure", "recording": "text", "label": "查封扣押"}
    r = client.put("/recording-list", headers=bearer(tokens["admin"]), json=item)
    assert r.status_code == 409 and "unaudited" in r.json()["detail"], r.text
    now = runtime.catalog.one("SELECT recording FROM recording_list WHERE kind = 'seizure'")
    assert now["recording"] == "full_av"


# 7. every CLI argument and option has help text


def test_every_cli_parameter_has_help() -> None:
    import typer

    from liuhen.cli import app

    root: Any = typer.main.get_command(app)
    ctx = root.make_context("liuhen", [], resilient_parsing=True)
    missing, seen = [], 0
    for group in ("token", "case", "access", "export"):
        cmd = root.get_command(ctx, group)
        assert cmd is not None, group
        subs = list(cmd.commands.values()) if hasattr(cmd, "commands") else [cmd]
        for sub in subs:
            for p in sub.params:
                seen += 1
                if not (getattr(p, "help", None) or "").strip():
                    missing.append(f"{group} {sub.name}: {p.name}")
    assert seen > 40 and missing == []
