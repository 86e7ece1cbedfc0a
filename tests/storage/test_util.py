"""storage.util: the ingest retention rule (Art. 13, ≥ 180 days) and key/range checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from liuhen.storage.errors import InvalidKey, InvalidRange
from liuhen.storage.util import check_key, check_range, default_until


def test_default_until_is_now_plus_the_retention_days_in_utc() -> None:
    # 2026-12-01 08:00 at +08:00 is 00:00 UTC; + 180 days = 2027-05-30 00:00 UTC (Dec 30 + Jan..Apr 120 + May 30).
    now = datetime(2026, 12, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert default_until(180, now) == datetime(2027, 5, 30, tzinfo=UTC)
    assert default_until(180) - datetime.now(UTC) > timedelta(days=179, hours=23)


def test_keys_and_ranges_are_checked() -> None:
    assert check_key("aa/bb.mp4") == "aa/bb.mp4"
    with pytest.raises(InvalidKey):
        check_key("../etc/passwd")
    assert check_range("k", 10, 2, None) == (2, 10)  # open end: to the last byte, stop exclusive
    with pytest.raises(InvalidRange):
        check_range("k", 10, 10, None)
