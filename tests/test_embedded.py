"""liuhen/embedded.py: a full disk is reported as a full disk, with how to recover."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from liuhen.core.errors import EmbeddedServiceError
from liuhen.embedded import NO_SPACE, start_failure, start_postgres, stop_postgres


def test_start_failure_names_the_cause() -> None:
    p = Path("/data/pgdata")
    msg = start_failure(p, "FATAL: could not write to file \"pg_wal/xlogtemp.1\": No space left on device", 5 << 20)
    assert msg.startswith(f"embedded PostgreSQL failed to start in {p}: {NO_SPACE} (free on that filesystem: 5 MiB)")
    assert "run the command again" in msg and "pgserver" not in msg
    # an almost full filesystem is named even when the server's message is vaguer
    assert NO_SPACE in start_failure(p, "initdb: error: could not create directory", 1 << 20)
    assert "'pgserver' system user" in start_failure(p, "could not open file: Permission denied", 10 << 30)
    assert NO_SPACE not in start_failure(p, "some other failure", 10 << 30)


@pytest.fixture
def full_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=1777", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.decode().strip()}")
    try:
        (mnt / "filler").write_bytes(b"\0" * ((4 << 20) - (64 << 10)))
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_embedded_start_on_a_full_disk_says_so(full_fs: Path) -> None:
    with pytest.raises(EmbeddedServiceError) as err:
        try:
            start_postgres(full_fs / "pgdata")
        finally:
            stop_postgres()
    assert NO_SPACE in str(err.value) and "run the command again" in str(err.value)
