"""cases.completeness.evaluate: the pure core of the completeness report (rows in, findings out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from liuhen.cases.completeness import Policy, evaluate

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _seg(link_id: int, file_id: int, start_s: float, dur: float | None, **kw: Any) -> dict[str, Any]:
    row = {
        "link_id": link_id,
        "file_id": file_id,
        "sha256": f"{file_id:064x}",
        "stage": "investigation",
        "activity_id": 1,
        "t_start_s": None,
        "t_end_s": None,
        "proves": None,
        "recorded_at": T0 + timedelta(seconds=start_s),
        "ingested_at": T0 + timedelta(hours=1),
        "duration_s": dur,
        "media_info": None,
        "device_serial": "DSJ-1",
        "officer_no": "110001",
        "officer_name": "张三",
        "flags": [],
        "session_flags": [],
    }
    return {**row, **kw}


ACT = {
    "id": 1,
    "stage": "investigation",
    "kind": "seizure",
    "recording": "full_av",
    "starts_at": T0,
    "ends_at": T0 + timedelta(seconds=10),
    "place": None,
    "officers": ["110001"],
}


def test_gap_late_upload_drift_and_unknown_duration() -> None:
    segs = [
        _seg(1, 1, 0, 4.0),  # covers 0–4 s
        # covers 6–10 s, stored 30 h after recording (> 24 h) and flagged by offload: late + drift
        _seg(2, 2, 6, 4.0, ingested_at=T0 + timedelta(hours=30), session_flags=["clock_drift"]),
        _seg(3, 3, 0, None),  # duration unknown: cannot be placed
    ]
    ev = evaluate(segs, [ACT], Policy(late_upload_hours=24, clock_drift_tolerance_s=120))
    kinds = [(f["kind"], f.get("file_id")) for f in ev.findings]
    assert kinds == [
        ("late_upload", 2),
        ("clock_drift", 2),
        ("unknown_duration", 3),
        ("coverage_gap", None),
    ]
    gap = ev.findings[-1]
    # 10 s activity minus [0,4] ∪ [6,10] = the 2 s from 4 s to 6 s, an error for full-AV
    assert (gap["starts_at"], gap["ends_at"], gap["seconds"], gap["severity"]) == (
        T0 + timedelta(seconds=4),
        T0 + timedelta(seconds=6),
        2.0,
        "error",
    )
    assert ev.findings[0]["message"] == "stored 30.0 h after recording (limit 24 h)"
    (act,) = ev.activities
    assert (act["covered_s"], act["span_s"], act["linked_segments"]) == (8.0, 10.0, [1, 2, 3])


def test_missing_av_and_clock_ahead() -> None:
    # recorded 1 h after it was stored (clock ahead, > 120 s tolerance); linked to another activity
    seg = _seg(1, 1, 7200, 4.0, activity_id=9)
    ev = evaluate([seg], [ACT], Policy())
    assert [(f["kind"], f["severity"]) for f in ev.findings] == [("clock_drift", "warning"), ("missing_av", "error")]
    assert ev.findings[0]["message"] == "device clock suspect: recording time is later than ingest time"
