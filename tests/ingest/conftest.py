"""Fixtures for ingest tests (helpers live in ``helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def dock(tmp_path: Path) -> Path:
    d = tmp_path / "dock"
    d.mkdir()
    return d
