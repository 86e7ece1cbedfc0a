"""Case service functions (no HTTP): stages in order, legal review gate, linking with legal hold, completeness."""

from __future__ import annotations

from datetime import timedelta

import pytest

from liuhen.cases import service as cases
from liuhen.cases.errors import InvalidActivity, LegalReviewRequired, StageOrderError
from liuhen.cases.principal import Principal
from liuhen.core.errors import Forbidden
from liuhen.storage.errors import ObjectLocked
from tests.api.helpers import T0, store_file

LR = Principal("lr1", "legal_reviewer")
SUP = Principal("sup1", "supervisor")


def _events(runtime, type_):
    return runtime.catalog.all("SELECT * FROM log_events WHERE type = %s ORDER BY id", (type_,))


def _to_review(runtime, case_no):
    for st in ("investigation", "review"):
        cases.advance_stage(runtime, case_no, st, "clerk1")


def test_stage_order_and_major_decision_needs_approved_legal_review(runtime):
    cases.create_case(
        runtime,
        case_no="执罚〔2024〕1号",
        agency="市城管局",
        subject="张三",
        case_type="penalty",
        major=True,
        actor="clerk1",
    )
    with pytest.raises(StageOrderError):
        cases.advance_stage(runtime, "执罚〔2024〕1号", "review", "clerk1")  # skipping investigation
    _to_review(runtime, "执罚〔2024〕1号")
    # 未经法制审核…不得作出决定: no review at all
    with pytest.raises(LegalReviewRequired, match="no legal review"):
        cases.advance_stage(runtime, "执罚〔2024〕1号", "decision", "clerk1")
    cases.record_legal_review(runtime, "执罚〔2024〕1号", reviewer=LR, opinion="证据不足", approved=False)
    with pytest.raises(LegalReviewRequired, match="rejected"):
        cases.advance_stage(runtime, "执罚〔2024〕1号", "decision", "clerk1")
    cases.record_legal_review(runtime, "执罚〔2024〕1号", reviewer=LR, opinion="同意", approved=True)
    c = cases.advance_stage(runtime, "执罚〔2024〕1号", "decision", "clerk1")
    assert c["stage"] == "decision"
    assert [e["type"] for e in _events(runtime, "legal_review")] == ["legal_review", "legal_review"]
    changes = _events(runtime, "stage.change")
    assert len(changes) == 4 and all(e["case_no"] == "执罚〔2024〕1号" for e in changes)
    got = cases.get_case(runtime, "执罚〔2024〕1号")
    assert [s["stage"] for s in got["stages"]] == ["filing", "investigation", "review", "decision"]


def test_non_major_case_may_decide_without_review_and_review_only_in_review_stage(runtime):
    cases.create_case(runtime, case_no="C2", agency="A", subject="S", case_type="inspection", actor="c")
    with pytest.raises(StageOrderError, match="review"):
        cases.record_legal_review(runtime, "C2", reviewer=LR, opinion="ok", approved=True)
    _to_review(runtime, "C2")
    assert cases.advance_stage(runtime, "C2", "decision", "c")["stage"] == "decision"


def test_activity_kinds_come_from_the_recording_list(runtime):
    cases.create_case(runtime, case_no="C3", agency="A", subject="S", case_type="coercive", actor="c")
    a = cases.add_activity(
        runtime,
        "C3",
        stage="investigation",
        kind="seizure",
        starts_at=T0,
        ends_at=T0 + timedelta(minutes=1),
        place="仓库",
        officers=["110001"],
        actor="c",
    )
    assert a["recording"] == "full_av"
    with pytest.raises(InvalidActivity, match="recording list"):
        cases.add_activity(runtime, "C3", stage="investigation", kind="karaoke", starts_at=T0, ends_at=T0, actor="c")
    with pytest.raises(InvalidActivity, match="before it starts"):
        cases.add_activity(
            runtime,
            "C3",
            stage="investigation",
            kind="hearing",
            starts_at=T0,
            ends_at=T0 - timedelta(seconds=1),
            actor="c",
        )


def test_link_sets_legal_hold_unlink_keeps_history_and_the_hold(runtime, media):
    f = store_file(runtime, media["h264_mp4"])
    for no in ("L1", "L2"):
        cases.create_case(runtime, case_no=no, agency="A", subject="S", case_type="penalty", actor="c")
    l1 = cases.link_clip(runtime, "L1", f["sha256"], stage="filing", proves="现场状况", actor="c")
    assert runtime.store.head(f["storage_key"]).legal_hold is True
    assert runtime.catalog.one("SELECT legal_hold FROM files WHERE id=%s", (f["id"],))["legal_hold"]
    l2 = cases.link_clip(runtime, "L2", f["id"], stage="filing", t_start_s=1, t_end_s=2, actor="c")
    assert len(_events(runtime, "hold.set")) == 1  # set once
    r1 = cases.unlink(runtime, "L1", l1["id"], actor="c", reason="wrong case")
    assert r1["hold_released"] is False
    with pytest.raises(ObjectLocked, match="still linked"):  # a supervisor cannot release while L2 links it
        cases.release_hold(runtime, f["sha256"], SUP, "linked by mistake")
    r2 = cases.unlink(runtime, "L2", l2["id"], actor="c")
    assert r2["hold_released"] is False  # unlinking the last link does not release the hold either
    assert runtime.store.head(f["storage_key"]).legal_hold is True
    assert runtime.catalog.one("SELECT legal_hold FROM files WHERE id=%s", (f["id"],))["legal_hold"]
    hist = cases.get_case(runtime, "L1")["links"]
    assert len(hist) == 1 and hist[0]["unlinked_by"] == "c" and hist[0]["unlinked_at"] is not None
    assert len(_events(runtime, "unlink")) == 2 and _events(runtime, "hold.release") == []
    # only a supervisor releases it, with a reason
    for who in (Principal("c", "clerk"), Principal("lr", "legal_reviewer"), Principal("adm", "admin")):
        with pytest.raises(Forbidden, match="supervisor"):
            cases.release_hold(runtime, f["sha256"], who, "linked by mistake")
    out = cases.release_hold(runtime, f["sha256"], SUP, "linked by mistake")
    assert out["released"] is True and runtime.store.head(f["storage_key"]).legal_hold is False
    (ev,) = _events(runtime, "hold.release")
    assert ev["actor"] == "sup1" and ev["subject_sha256"] == f["sha256"]


def test_completeness_missing_av_gaps_late_upload_and_drift(runtime, media):
    cases.create_case(runtime, case_no="K1", agency="A", subject="S", case_type="coercive", actor="c")
    seize = cases.add_activity(
        runtime,
        "K1",
        stage="investigation",
        kind="seizure",
        starts_at=T0,
        ends_at=T0 + timedelta(seconds=10),
        officers=["110001"],
        actor="c",
    )
    demol = cases.add_activity(
        runtime,
        "K1",
        stage="execution",
        kind="forced_demolition",
        starts_at=T0,
        ends_at=T0 + timedelta(seconds=5),
        actor="c",
    )
    cases.add_activity(
        runtime, "K1", stage="investigation", kind="document_review", starts_at=T0, ends_at=T0, actor="c"
    )
    # two 4 s clips covering 0–4 s and 6–10 s of the seizure: a 2 s gap where the recorder stopped
    a = store_file(runtime, media["h264_mp4"], recorded_at=T0)
    b = store_file(
        runtime,
        media["h264_mp4_b"],
        recorded_at=T0 + timedelta(seconds=6),
        ingested_at=T0 + timedelta(hours=30),
        flags=["clock_drift"],
        officer_no="110002",
        device_serial="DSJ-0002",
    )
    cases.link_clip(runtime, "K1", a["sha256"], stage="investigation", activity_id=seize["id"], actor="c")
    cases.link_clip(runtime, "K1", b["sha256"], stage="investigation", activity_id=seize["id"], actor="c")
    rep = cases.completeness(runtime, "K1")
    kinds = {(f["kind"], f.get("activity_id") or f.get("file_id")) for f in rep["findings"]}
    assert ("missing_av", demol["id"]) in kinds
    gap = [f for f in rep["findings"] if f["kind"] == "coverage_gap"]
    assert len(gap) == 1 and gap[0]["seconds"] == pytest.approx(2.0, abs=0.01)
    assert gap[0]["starts_at"] == T0 + timedelta(seconds=4)
    assert ("late_upload", b["id"]) in kinds and ("late_upload", a["id"]) not in kinds
    assert ("clock_drift", b["id"]) in kinds
    assert ("officer_not_listed", seize["id"]) in kinds
    assert rep["complete"] is False and rep["errors"] == 2
    segs = {s["sha256"]: s for s in rep["segments"]}
    assert segs[b["sha256"]]["officer_no"] == "110002" and segs[b["sha256"]]["device_serial"] == "DSJ-0002"
    from liuhen.cases.completeness import render_html

    page = render_html(rep)
    assert "missing_av" in page and "K1" in page and "<script" not in page
