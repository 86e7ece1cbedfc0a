"""liuhen/commands/tokens.py: token expiry (never-expiring tokens are an explicit choice)."""

from __future__ import annotations

import json

from liuhen.cli import app
from liuhen.core.errors import InvalidRequest


def test_token_issue_refuses_zero_and_negative_days(cli) -> None:
    for days in ("0", "-5"):
        res = cli.invoke(app, ["token", "issue", "--user", "a", "--role", "clerk", "--expires-days", days])
        assert isinstance(res.exception, InvalidRequest), res.output
        assert "more than 0" in str(res.exception) and "--no-expiry" in str(res.exception)


def test_token_issue_defaults_to_an_expiry_and_never_is_explicit(cli) -> None:
    res = cli.invoke(app, ["token", "issue", "--user", "a", "--role", "clerk", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["expires_at"] is not None  # 90 days by default
    res = cli.invoke(app, ["token", "issue", "--user", "a", "--role", "clerk", "--no-expiry", "--json"])
    assert json.loads(res.stdout)["expires_at"] is None
    res = cli.invoke(app, ["token", "issue", "--user", "a", "--role", "clerk", "--no-expiry", "--expires-days", "3"])
    assert res.exit_code == 2 and "not both" in res.output
