"""api/auth.py: token issue refuses expiries that are not in the future; never-expiring is explicit."""

from __future__ import annotations

import math

import pytest

from liuhen.api.auth import issue_token
from liuhen.core.errors import InvalidRequest


@pytest.mark.parametrize("days", [0, -5, math.nan, math.inf, 1e9])
def test_expiry_must_be_a_positive_finite_number_of_days(runtime, days: float) -> None:
    with pytest.raises(InvalidRequest, match=r"--expires-days must be more than 0.*--no-expiry"):
        issue_token(runtime, user="u", role="clerk", actor="t", expires_days=days)
    assert runtime.catalog.one("SELECT count(*) AS n FROM api_tokens")["n"] == 0


def test_positive_days_expire_and_none_never_does(runtime) -> None:
    _, row = issue_token(runtime, user="u", role="clerk", actor="t", expires_days=0.5)
    assert row["expires_at"] is not None and 11.9 * 3600 < (row["expires_at"] - row["issued_at"]).total_seconds()
    _, row = issue_token(runtime, user="u", role="clerk", actor="t", expires_days=None)
    assert row["expires_at"] is None
