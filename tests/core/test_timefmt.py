from datetime import UTC, datetime, timedelta, timezone

import pytest

from liuhen.core.errors import InvalidRequest
from liuhen.core.timefmt import as_utc, local, parse_utc, utc_iso


def test_local_is_shanghai_with_offset() -> None:
    # 18:18:32 UTC + 8 h = 02:18:32 the next day in Asia/Shanghai (no DST since 1991).
    assert local(datetime(2026, 12, 1, 18, 18, 32, tzinfo=UTC)) == "2026-12-02 02:18:32 +08:00"


def test_local_other_zone_and_negative_offset() -> None:
    # America/New_York is UTC−5 in December: 18:18 UTC is 13:18 local.
    t = datetime(2026, 12, 1, 18, 18, tzinfo=UTC)
    assert local(t, "America/New_York", seconds=False) == "2026-12-01 13:18 -05:00"


def test_naive_is_utc_and_machine_form_keeps_z() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)
    assert as_utc(naive) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert utc_iso(datetime(2026, 1, 2, 11, 4, 5, tzinfo=timezone(timedelta(hours=8)))) == "2026-01-02T03:04:05Z"
    assert local(None) == ""


def test_parse_utc_text_and_datetimes() -> None:
    # 10:00 at +08:00 is 02:00 UTC; "Z" and a naive string both mean UTC; None passes through.
    assert parse_utc("2026-03-01T10:00:00+08:00") == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert parse_utc(" 2026-03-01T02:00:00Z ") == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert parse_utc("2026-03-01T02:00:00") == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert parse_utc(datetime(2026, 3, 1, 2, 0)) == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert parse_utc(None) is None


def test_parse_utc_names_the_field_and_value() -> None:
    with pytest.raises(InvalidRequest, match=r"starts_at: not an ISO 8601 time: 'yesterday'"):
        parse_utc("yesterday", "starts_at")
