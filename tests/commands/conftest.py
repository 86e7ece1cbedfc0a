"""CLI fixtures: the CLI pointed at the test database and data dir through the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(settings, monkeypatch) -> Iterator[CliRunner]:  # type: ignore[no-untyped-def]
    from liuhen.core.config import get_settings

    for k, v in {
        "LIUHEN_DATA_DIR": str(settings.data_dir),
        "LIUHEN_DATABASE_URL": settings.database_url,
        "LIUHEN_STORE": "local",
        "LIUHEN_ACTOR": "test:cli",
    }.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
