"""`liuhen ingest` on a wrong path: a clear error and a non-zero exit, never a traceback or a false success."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from liuhen.core.errors import LiuhenError
from liuhen.ingest.errors import DockNotFound
from liuhen.ingest.layout import discover


def _liuhen(args: list[str], tmp_path: Path, pg_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
    env.update(LIUHEN_DATA_DIR=str(tmp_path / "data"), LIUHEN_DATABASE_URL=pg_url)
    return subprocess.run(
        [sys.executable, "-m", "liuhen.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_discover_names_a_missing_dock(tmp_path: Path) -> None:
    with pytest.raises(DockNotFound, match="not a directory") as exc:
        discover(tmp_path / "unplugged")
    assert isinstance(exc.value, LiuhenError)


def test_missing_path_is_a_one_line_error(tmp_path: Path, pg_url: str) -> None:
    proc = _liuhen(["ingest", str(tmp_path / "nope")], tmp_path, pg_url)
    assert proc.returncode == 2
    assert "not a directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_empty_dock_is_not_a_success(tmp_path: Path, pg_url: str) -> None:
    dock = tmp_path / "dock"
    dock.mkdir()
    proc = _liuhen(["ingest", str(dock)], tmp_path, pg_url)
    assert proc.returncode == 1
    assert "no docked recorder found" in proc.stderr
