"""I8 + I6: an event recorded by a CLI command is committed *and* gets its log index before the command
exits — nothing is left pending for a sequencer that may never run (no server on a CLI-only install)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liuhen.catalog.db import Catalog
from liuhen.core.config import get_settings
from liuhen.integrity import log
from liuhen.integrity.events import Event


@pytest.fixture
def cli(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIUHEN_DATABASE_URL", pg_url)
    monkeypatch.setenv("LIUHEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LIUHEN_STORE", "memory")
    monkeypatch.setenv("LIUHEN_ACTOR", "cli:test")
    get_settings.cache_clear()
    from liuhen.cli import app

    def run(*args: str) -> str:
        res = CliRunner().invoke(app, ["audit", *args])
        assert res.exit_code == 0, res.output
        return res.output

    yield run
    get_settings.cache_clear()


def test_I8_audit_sequence_indexes_events_other_commands_left_pending(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    with catalog.tx() as conn:  # what api/storage/transcoder services do: record() in their transaction
        for i in range(3):
            log.record(conn, Event("access.view", "u", subject={"sha256": f"{i:064x}"}))
    assert log.pending_count(catalog) == 3
    out = json.loads(cli("sequence", "--json"))
    assert out == {"size": 3, "sequenced": 3, "pending": 0}
    assert log.pending_count(catalog) == 0 and log.size(catalog) == 3


def test_I8_every_audit_command_that_logs_leaves_nothing_pending(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    for args in (("checkpoint", "--publish"), ("rotate-key",), ("fixity",), ("public-key",)):
        before = log.size(catalog)
        cli(*args)
        assert log.pending_count(catalog) == 0, args
        if args[0] == "rotate-key":  # its key.rotate event is already a leaf
            assert log.size(catalog) == before + 1
