"""``liuhen user add`` (liuhen/commands/users.py): password from stdin, forced first change, then sign-in works."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import liuhen.wiring
from liuhen.cli import app
from liuhen.console import accounts
from liuhen.console.config import ConsoleSettings
from liuhen.console.errors import SignInFailed


def test_user_add_reads_stdin_and_forces_first_change(runtime, settings, monkeypatch):
    monkeypatch.setattr(liuhen.wiring, "get_settings", lambda: settings)
    run = CliRunner().invoke
    res = run(app, ["user", "add", "--user", "wang", "--role", "clerk", "--unit", "U7", "--password-stdin"],
              input="Station-Pass-42\n")
    assert res.exit_code == 0, (res.output, res.exception)
    assert json.loads(res.output) == {"user": "wang", "role": "clerk", "unit": "U7", "must_change": True}
    acct = accounts.sign_in(runtime.catalog, "wang", "Station-Pass-42", ip=None, settings=ConsoleSettings())
    assert acct.must_change and acct.role == "clerk"
    with pytest.raises(SignInFailed):
        accounts.sign_in(runtime.catalog, "wang", "Station-Pass-4", ip=None, settings=ConsoleSettings())
    # no --password-stdin, an empty password, an unknown role: refused with a message, nothing created
    assert run(app, ["user", "add", "--user", "x", "--role", "clerk"]).exit_code != 0
    bad = run(app, ["user", "add", "--user", "y", "--role", "clerk", "--password-stdin"], input="\n")
    assert bad.exit_code != 0 and "no password" in str(bad.exception)
    bad = run(app, ["user", "add", "--user", "z", "--role", "boss", "--password-stdin"], input="Long-Enough-99\n")
    assert bad.exit_code != 0 and "unknown role" in str(bad.exception)
    assert runtime.catalog.one("SELECT count(*) AS n FROM api_users WHERE name IN ('x','y','z')")["n"] == 0
