"""How times are shown: in the agency's zone (never bare UTC), with the recorder's own clock beside it
where it differs from the corrected time. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

FORMAT = "%Y-%m-%d %H:%M:%S"


def local(value: datetime | None, zone: ZoneInfo) -> str:
    """``2026-11-23 18:20:05`` in ``zone``; '' for None. A naive datetime is taken as UTC (the catalog's)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).strftime(FORMAT)


def drift(recorder_clock: datetime | None, dock_clock: datetime | None) -> timedelta | None:
    """How far the recorder's clock was ahead of the dock's when it docked (None when unknown)."""
    if recorder_clock is None or dock_clock is None:
        return None
    return recorder_clock - dock_clock


def corrected(recorded_at: datetime | None, clock_drift: timedelta | None) -> datetime | None:
    """A recording time as the recorder stamped it, corrected by the drift measured at docking."""
    if recorded_at is None:
        return None
    return recorded_at - clock_drift if clock_drift is not None else recorded_at


def shown(
    recorded_at: datetime | None, clock_drift: timedelta | None, zone: ZoneInfo, *, tolerance_s: float = 1.0
) -> tuple[str, str | None]:
    """(corrected time, recorder's own clock or None when they agree within ``tolerance_s``), both in ``zone``."""
    fixed = corrected(recorded_at, clock_drift)
    if recorded_at is None or clock_drift is None or abs(clock_drift.total_seconds()) < tolerance_s:
        return local(fixed, zone), None
    return local(fixed, zone), local(recorded_at, zone)


def epoch_ms(value: datetime | None) -> int | None:
    """For the player and the multi-camera view: milliseconds since the epoch (zone-free)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return round(value.timestamp() * 1000)
