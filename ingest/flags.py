"""Timing flags of a recording — the one definition of ``late_upload`` and ``clock_drift``.

Pure functions, no I/O. Offload (``ingest.offload``) flags each file as it stores it; the case
completeness report (``cases.completeness``) applies the same rules to the catalog rows. Each returns
a note naming the numbers that tripped it, or None.

- ``late_upload``: stored more than ``limit_h`` hours after recording (公安部 24 h rule). The recording
  time is the one in the file name, else the file's mtime.
- ``clock_drift`` has three sources: the recorder's clock file disagrees with the dock's clock; a
  file's mtime lies outside [time in its name, + clip length] by more than the tolerance; or a
  recording time is later than the time it was stored (a clock running ahead).
- ``station_clock_drift``: the dock station's own clock disagrees with the database's (its receipts'
  and flags' times would be off).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from liuhen.core.timefmt import as_utc

MAX_CLIP_S = 4 * 3600.0  # when a clip's duration is unknown: the longest a recorder writes one file
LATE_UPLOAD = "late_upload"
CLOCK_DRIFT = "clock_drift"
STATION_CLOCK_DRIFT = "station_clock_drift"


def upload_delay_h(recorded_at: datetime, stored_at: datetime) -> float:
    return (as_utc(stored_at) - as_utc(recorded_at)).total_seconds() / 3600.0


def late_upload(recorded_at: datetime | None, stored_at: datetime, limit_h: float) -> str | None:
    """Stored more than ``limit_h`` hours after ``recorded_at``."""
    if recorded_at is None:
        return None
    delay = upload_delay_h(recorded_at, stored_at)
    if delay > limit_h:
        return f"stored {delay:.1f} h after recording (limit {limit_h:g} h)"
    return None


def device_clock_drift(device_clock: datetime | None, docked_at: datetime, tolerance_s: float) -> str | None:
    """The recorder's own clock at docking vs the dock's clock."""
    if device_clock is None:
        return None
    drift = (as_utc(device_clock) - as_utc(docked_at)).total_seconds()
    if abs(drift) > tolerance_s:
        return f"recorder clock is {drift:+.0f} s from the dock's clock"
    return None


def station_clock_drift(drift_s: float, tolerance_s: float) -> str | None:
    """The dock station's clock minus the database's (``drift_s``) beyond the tolerance."""
    if abs(drift_s) > tolerance_s:
        return f"station clock is {drift_s:+.1f} s from the database's clock"
    return None


def mtime_drift(recorded_at: datetime | None, mtime: datetime, span_s: float | None, tolerance_s: float) -> str | None:
    """A file's mtime should fall within [name time, name time + span] (±tolerance); span None = unknown."""
    if recorded_at is None:
        return None
    span = MAX_CLIP_S if span_s is None else span_s
    delta = (as_utc(mtime) - as_utc(recorded_at)).total_seconds()
    if delta < -tolerance_s or delta > span + tolerance_s:
        return f"file mtime is {delta:+.0f} s from the time in its name"
    return None


def clock_ahead(recorded_at: datetime | None, stored_at: datetime, tolerance_s: float) -> str | None:
    """A recording time later than the time it was stored: the device clock runs ahead."""
    if recorded_at is None:
        return None
    if (as_utc(recorded_at) - as_utc(stored_at)).total_seconds() > tolerance_s:
        return "recording time is later than ingest time"
    return None


def drift_flags(flags: Iterable[str]) -> list[str]:
    """The stored flags that say a device clock is off (``clock_drift`` and kin), sorted, unique."""
    return sorted({f for f in flags if "clock" in f or "drift" in f})
