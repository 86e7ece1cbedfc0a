"""The backoff rule (known answers)."""

from __future__ import annotations

from liuhen.core.retry import retry_delay


def test_retry_delay_doubles_from_the_first_wait_up_to_the_cap() -> None:
    # first_s · 2^(attempts-1), capped: 2, 4, 8, 16, then 30 (= min(30, 32)) and 30 from there on
    assert [retry_delay(n, 2.0, 30.0) for n in range(1, 8)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert retry_delay(0, 2.0, 30.0) == 2.0 and retry_delay(10_000, 2.0, 30.0) == 30.0
