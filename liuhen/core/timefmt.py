"""Times as people read them: in the agency's zone with its offset, never a bare UTC ``…Z``.

Machine formats (audit events, JSON, manifests) keep UTC ISO 8601; anything a person reads — a bag's
statement and index, receipts, the completeness page, CLI tables, the console — goes through ``local``.
The zone is ``LIUHEN_DISPLAY_TZ`` (default Asia/Shanghai).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo

from liuhen.core.errors import InvalidRequest

DEFAULT_ZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(t: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@overload
def parse_utc(value: None, what: str = "time") -> None: ...
@overload
def parse_utc(value: datetime | str, what: str = "time") -> datetime: ...
def parse_utc(value: datetime | str | None, what: str = "time") -> datetime | None:
    """``as_utc`` of a datetime or an ISO 8601 string (``Z`` accepted; naive = UTC); None stays None.

    Text that is not ISO 8601 raises ``InvalidRequest`` naming ``what`` and the value.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidRequest(f"{what}: not an ISO 8601 time: {value!r}") from exc
    return as_utc(value)


def utc_iso(t: datetime) -> str:
    """Machine form: ``2026-12-01T18:18:32Z`` (seconds; microseconds only when present)."""
    return as_utc(t).isoformat().replace("+00:00", "Z")


def local(t: datetime | None, zone: str = DEFAULT_ZONE, *, seconds: bool = True) -> str:
    """Human form in ``zone`` with its offset: ``2026-12-02 02:18:32 +08:00`` (empty for None)."""
    if t is None:
        return ""
    lt = as_utc(t).astimezone(ZoneInfo(zone))
    off = lt.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    mins = abs(int(off.total_seconds())) // 60
    body = lt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{body} {sign}{mins // 60:02d}:{mins % 60:02d}"


def from_ns(ns: int) -> datetime:
    """A UTC datetime from nanoseconds since the epoch (microsecond precision, no float rounding)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
