"""Known answers for the completeness timeline geometry (1000 units across the window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liuhen.console.timeline import activity_timeline

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _s(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def test_gap_and_segments_are_placed_proportionally() -> None:
    # activity 0..10 min; DEV-1 covers 0..4 min, DEV-2 covers 6..12 min (runs 2 min past the span) →
    # window 0..12 min = 1000 units; gap 4..6 min = x 333.33, w 166.67; DEV-2 bar x 500, w 500.
    rep = {
        "segments": [
            {"link_id": 1, "sha256": "a" * 64, "starts_at": _s(0), "ends_at": _s(4), "device_serial": "DEV-1",
             "officer_no": "110"},
            {"link_id": 2, "sha256": "b" * 64, "starts_at": _s(6), "ends_at": _s(12), "device_serial": "DEV-2",
             "officer_no": None},
        ],
        "findings": [{"kind": "late_upload", "sha256": "b" * 64}],
    }
    act = {"id": 7, "kind": "seizure", "stage": "investigation", "starts_at": _s(0), "ends_at": _s(10),
           "linked_segments": [1, 2], "gaps": [{"starts_at": _s(4), "ends_at": _s(6)}], "covered_s": 480.0,
           "span_s": 600.0}
    t = activity_timeline(rep, act)
    assert (t.span.x, t.span.w) == (0.0, 833.33)
    assert [(g.x, g.w) for g in t.gaps] == [(333.33, 166.67)]
    assert [r.label for r in t.rows] == ["DEV-1 (110)", "DEV-2"]
    assert [(b.x, b.w, b.marks) for b in t.rows[1].bars] == [(500.0, 500.0, ("late_upload",))]
    assert t.rows[0].bars[0].marks == ()
