"""``transcoder.tool.run``: no Python runs in the forked child, and the rlimits still bind ffmpeg."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from liuhen.core.media import ffmpeg_exe
from liuhen.transcoder import tool
from liuhen.transcoder.errors import FfmpegFailed

_WATCH: list[Path] = []  # while set, a forked child that runs Python notes it here


def _child_ran_python() -> None:
    for marker in _WATCH:
        marker.write_text("Python ran between fork and exec")


os.register_at_fork(after_in_child=_child_ran_python)  # Python calls these only where a child runs Python


def test_no_python_runs_between_fork_and_exec(tmp_path: Path) -> None:
    # Regression (CI, 2026-12-07): with a preexec_fn the forked child of a threaded worker ran Python; the
    # collector there freed a PyAV frame whose swscale slice threads do not exist in the child, it waited
    # on their condition variable for ever, and Popen never returned.
    marker = tmp_path / "child-ran-python"
    _WATCH.append(marker)
    try:
        tool.run([ffmpeg_exe(), "-version"], timeout_s=30)
    finally:
        _WATCH.clear()
    assert not marker.exists(), marker.read_text()


def test_the_address_space_limit_binds_ffmpeg() -> None:
    argv = [ffmpeg_exe(), "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:duration=5", "-f", "null", "-"]
    tool.run(argv, timeout_s=60)  # unlimited: it runs
    with pytest.raises(FfmpegFailed, match="ffmpeg failed"):
        tool.run(argv, timeout_s=60, rlimit_as_mb=48)


def test_the_cpu_limit_kills_ffmpeg() -> None:
    endless = "testsrc2=size=1920x1080"
    argv = [ffmpeg_exe(), "-nostdin", "-f", "lavfi", "-i", endless, "-c:v", "libx264", "-f", "null", "-"]
    # an endless encode: SIGXCPU after one CPU-second (ffmpeg traps it and exits 123), not the 60 s timeout
    with pytest.raises(FfmpegFailed, match="ffmpeg failed"):
        tool.run(argv, timeout_s=60, rlimit_cpu_s=1)
