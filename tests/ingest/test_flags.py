"""ingest.flags: known answers for the one definition of late_upload and clock_drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liuhen.ingest.flags import (
    MAX_CLIP_S,
    clock_ahead,
    device_clock_drift,
    drift_flags,
    late_upload,
    mtime_drift,
    station_clock_drift,
)

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_late_upload_is_more_than_the_limit_after_recording() -> None:
    assert late_upload(T0, T0 + timedelta(hours=24), 24) is None  # exactly at the limit: not late
    # 30 h after recording, limit 24 h → "30.0 h"
    assert late_upload(T0, T0 + timedelta(hours=30), 24) == "stored 30.0 h after recording (limit 24 h)"
    assert late_upload(None, T0, 24) is None


def test_mtime_must_lie_within_the_clip_span_plus_tolerance() -> None:
    # a 60 s clip named at T0, closed (mtime) at T0+60 s: consistent
    assert mtime_drift(T0, T0 + timedelta(seconds=60), 60.0, 120) is None
    # mtime 60 + 121 s after the name: one second beyond span + tolerance → +181 s
    assert mtime_drift(T0, T0 + timedelta(seconds=181), 60.0, 120) == "file mtime is +181 s from the time in its name"
    assert mtime_drift(T0, T0 - timedelta(seconds=121), 60.0, 120) == "file mtime is -121 s from the time in its name"
    # unknown duration: the longest clip a recorder writes (4 h) bounds the span
    assert mtime_drift(T0, T0 + timedelta(seconds=MAX_CLIP_S + 100), None, 120) is None
    assert mtime_drift(None, T0, 1.0, 120) is None


def test_device_clock_and_clock_ahead() -> None:
    assert device_clock_drift(T0 + timedelta(seconds=120), T0, 120) is None
    assert device_clock_drift(T0 - timedelta(seconds=300), T0, 120) == "recorder clock is -300 s from the dock's clock"
    assert clock_ahead(T0 + timedelta(seconds=121), T0, 120) == "recording time is later than ingest time"
    assert clock_ahead(T0 + timedelta(seconds=120), T0, 120) is None


def test_station_clock_against_the_database() -> None:
    # station minus database: exactly the tolerance is fine; 130.25 s behind is reported with one decimal
    assert station_clock_drift(120.0, 120) is None
    assert station_clock_drift(-130.25, 120) == "station clock is -130.2 s from the database's clock"


def test_drift_flags_picks_clock_flags() -> None:
    assert drift_flags(["no_gps", "clock_drift", "clock_drift", "late_upload", "station_clock_drift"]) == [
        "clock_drift",
        "station_clock_drift",
    ]
