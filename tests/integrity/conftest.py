"""Fixtures for integrity tests: ``cli`` runs ``liuhen audit …`` in-process on the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liuhen.core.config import get_settings


@pytest.fixture
def cli(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """``cli("verify", "--json", code=0)``: run ``liuhen audit …``, assert the exit code, return the output."""
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
