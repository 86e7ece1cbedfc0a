"""Event origin is set once, by the shell, for every CLI command: whatever package records an event
during a command (ingest's worker threads included), it carries ``via: "cli"`` and ``os_user``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import liuhen.wiring
from liuhen.cli import app
from liuhen.core.config import Settings, os_user
from liuhen.integrity.events import current_origin
from liuhen.simulate import simulate_dock


def test_ingest_events_from_the_cli_carry_the_origin(
    runtime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    two = settings.model_copy(update={"ingest_parallelism": 2})
    monkeypatch.setattr(liuhen.wiring, "get_settings", lambda: two)
    dock = tmp_path / "dock"
    simulate_dock(dock, recorders=2, minutes=0.05, width=160, height=120, bitrate="200k", clip_seconds=3.0)
    res = CliRunner().invoke(app, ["ingest", str(dock)])
    assert res.exit_code == 0, res.output
    rows = runtime.catalog.all("SELECT type, body FROM log_events ORDER BY id")
    kinds = {r["type"] for r in rows}
    assert {"ingestion", "receipt"} <= kinds  # recorded by ingest in two worker threads, not by cases
    for r in rows:
        data = json.loads(bytes(r["body"]))["data"]
        assert (data.get("via"), data.get("os_user")) == ("cli", os_user()), r["type"]
    # outside a CLI command nothing is stamped: the origin does not leak past the command
    assert current_origin() == {}
