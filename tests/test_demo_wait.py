"""The demo never hangs on dead workers: waiting for transcoding fails at once, naming the exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from liuhen.demo import _wait_transcoded
from liuhen.transcoder.errors import WorkersExited
from tests.transcoder.conftest import add_original


def test_wait_fails_fast_when_every_worker_exited(runtime, media) -> None:  # type: ignore[no-untyped-def]
    fid = add_original(runtime, media["h264_mp4"])  # media_status 'pending': nothing will transcode it
    dead = [subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]) for _ in range(2)]
    for p in dead:
        p.wait()
    with pytest.raises(WorkersExited, match=r"codes 3, 3\) with 1 files still pending"):
        _wait_transcoded(runtime, [fid], timeout=60, procs=dead)


def test_wait_returns_when_nothing_is_pending(runtime, media) -> None:  # type: ignore[no-untyped-def]
    fid = add_original(runtime, media["h264_mp4"])
    runtime.catalog.one("UPDATE files SET media_status = 'ok' WHERE id = %s RETURNING id", (fid,))
    _wait_transcoded(runtime, [fid], timeout=5, procs=[])
