"""liuhen/commands/cases.py: times people read, case grants, legal reviews and CLI origin, help."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from liuhen.api.auth import issue_token
from liuhen.cases import access
from liuhen.cases import service as cases
from liuhen.cli import app
from liuhen.core.errors import Forbidden
from tests.cases.helpers import CLERK, events, new_case


def test_people_read_agency_time_machines_read_utc(cli, monkeypatch) -> None:
    res = cli.invoke(app, ["case", "create", "T-1", "--agency", "A", "--subject", "S", "--type", "levy"])
    assert res.exit_code == 0, res.output
    created = next(line for line in res.stdout.splitlines() if line.startswith("created_at: "))
    assert created.endswith(" +08:00") and "T" not in created.split(": ", 1)[1]  # Asia/Shanghai by default
    res = cli.invoke(app, ["case", "show", "T-1", "--json"])
    assert json.loads(res.stdout)["created_at"].endswith("Z")


def test_cli_grant_and_revoke_grant(runtime, cli) -> None:  # type: ignore[no-untyped-def]
    from liuhen.api.auth import issue_token
    from liuhen.cases import service

    a, b = "110101000000", "110102000000"
    for user, role in (("supA", "supervisor"), ("clerkA", "clerk")):
        issue_token(runtime, user=user, role=role, unit_code=a, actor="t")
    service.create_case(runtime, case_no="A-1", agency="a", subject="s", case_type="levy", actor="t", unit_code=a)
    res = cli.invoke(app, ["case", "grant", "A-1", b, "--reason", "联合办案", "--as", "supA", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["unit_code"] == b
    res = cli.invoke(app, ["case", "revoke-grant", "A-1", b, "--as", "clerkA"])
    assert res.exception is not None and "only a supervisor" in str(res.exception)
    res = cli.invoke(app, ["case", "revoke-grant", "A-1", b, "--as", "supA", "--json"])
    assert res.exit_code == 0, res.output
    assert runtime.catalog.one("SELECT count(*) AS n FROM case_unit_grants")["n"] == 0
    types = [r["type"] for r in runtime.catalog.all("SELECT type FROM log_events ORDER BY id")]
    assert types[-2:] == ["case.grant", "case.grant_revoke"]


# legal reviews from the CLI need a legal reviewer; CLI events name the OS user who ran the command


def test_cli_review_needs_a_legal_reviewer_and_cli_events_carry_the_os_user(runtime, settings, monkeypatch):
    import liuhen.wiring
    from liuhen.core.config import os_user

    monkeypatch.setattr(liuhen.wiring, "get_settings", lambda: settings)
    run = CliRunner().invoke
    for user, role in (("zhao", "legal_reviewer"), ("li", "clerk"), ("wang", "supervisor")):
        issue_token(runtime, user=user, role=role, actor="test-admin")
    new_case(runtime, "CLI-LR", major=True)
    for st in ("investigation", "review"):
        cases.advance_stage(runtime, "CLI-LR", st, "clerk1")
    review = ["case", "review", "CLI-LR", "--opinion", "同意", "--approve"]
    assert run(app, review).exit_code != 0  # --as is required
    res = run(app, [*review, "--as", "li"])
    assert res.exit_code != 0 and isinstance(res.exception, Forbidden)
    res = run(app, [*review, "--as", "nobody"])
    assert res.exit_code != 0
    assert events(runtime, "legal_review") == []
    res = run(app, [*review, "--as", "zhao", "--json"])
    assert res.exit_code == 0, res.output
    (ev,) = events(runtime, "legal_review")
    assert ev["actor"] == "zhao" and ev["data"]["via"] == "cli" and ev["data"]["os_user"] == os_user()
    # an approval made with --as still shows who ran the command
    req = access.create_request(runtime, CLERK, kind="export", purpose="移送法院", case_no="CLI-LR")
    assert run(app, ["access", "approve", str(req["id"]), "--as", "wang"]).exit_code == 0
    (ap,) = events(runtime, "access.approval")
    assert ap["actor"] == "wang" and ap["data"]["via"] == "cli" and ap["data"]["os_user"] == os_user()
    # events recorded outside a CLI command (HTTP, in-process) carry no CLI marker: it does not leak
    assert "via" not in events(runtime, "access.request")[0]["data"]


def test_every_cli_parameter_has_help() -> None:
    import typer

    root: Any = typer.main.get_command(app)
    ctx = root.make_context("liuhen", [], resilient_parsing=True)
    missing, seen = [], 0
    for group in ("token", "case", "access", "export"):
        cmd = root.get_command(ctx, group)
        assert cmd is not None, group
        subs = list(cmd.commands.values()) if hasattr(cmd, "commands") else [cmd]
        for sub in subs:
            for p in sub.params:
                seen += 1
                if not (getattr(p, "help", None) or "").strip():
                    missing.append(f"{group} {sub.name}: {p.name}")
    assert seen > 40 and missing == []
