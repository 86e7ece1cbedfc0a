"""`liuhen audit …` end to end on a real database (typer CliRunner, the real runtime)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liuhen.catalog.db import Catalog
from liuhen.core.config import get_settings
from liuhen.integrity import checkpoint, log, rfc6962, tlogproof
from liuhen.integrity.events import Event


@pytest.fixture
def cli(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIUHEN_DATABASE_URL", pg_url)
    monkeypatch.setenv("LIUHEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LIUHEN_STORE", "memory")
    monkeypatch.setenv("LIUHEN_ACTOR", "cli:test")
    get_settings.cache_clear()
    from liuhen.cli import app

    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, ["audit", *args])
        assert res.exit_code == code, res.output
        return res.output

    yield run
    get_settings.cache_clear()


def test_audit_commands_json(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    log.append_many(catalog, [Event("access.view", "u", subject={"sha256": f"{i:064x}"}) for i in range(9)])
    cp = json.loads(cli("checkpoint", "--publish", "--json"))
    assert cp["size"] == 9 and cp["note"].startswith("liuhen.local/audit\n9\n")
    checkpoint.verify_note(cp["note"], [cp["public_key"]])
    leaf = json.loads(cli("leaf", "4", "--json"))
    assert base64.b64decode(leaf["leaf"]) == log.leaf(catalog, 4).body and leaf["event"]["actor"] == "u"
    inc = json.loads(cli("inclusion", "4", "--json"))
    assert inc["size"] == 9 and len(inc["proof"]) == len(rfc6962.inclusion_ranges(4, 9))
    tp = cli("inclusion", "4", "--tlog-proof")
    assert tlogproof.verify(tp, log.leaf(catalog, 4).body, [cp["public_key"]]) == 9
    con = json.loads(cli("consistency", "3", "9", "--json"))
    assert len(con["proof"]) == len(rfc6962.consistency_ranges(3, 9))
    ver = json.loads(cli("verify", "--json"))
    assert ver["ok"] and ver["leaves_checked"] == 9 and ver["checkpoints_checked"] == 1
    rot = json.loads(cli("rotate-key", "--json"))
    assert rot["old_key"] != rot["new_key"]
    assert json.loads(cli("verify", "--json"))["ok"]
    fx = json.loads(cli("fixity", "--json"))
    assert fx["ok"] and fx["checked"] == 0
    cli("leaf", "999", code=2)


def test_audit_verify_exits_nonzero_naming_the_mismatch(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    log.append_many(catalog, [Event("access.view", "u", subject={"sha256": f"{i:064x}"}) for i in range(5)])
    cli("checkpoint", "--publish")
    with catalog.tx() as conn:
        conn.execute("ALTER TABLE log_events DISABLE TRIGGER USER")
        conn.execute("UPDATE log_events SET body = convert_to('{}', 'UTF8') WHERE idx = 2")
        conn.execute("ALTER TABLE log_events ENABLE TRIGGER USER")
    out = cli("verify", code=1)
    assert "FAILED" in out and "leaf 2: body hashes to" in out
