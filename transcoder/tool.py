"""Run ffmpeg: argv built with ``ffmpeg-python``, a wall-clock timeout and rlimits, versions recorded.

Recorded argv use the placeholders ``{input}`` / ``{output}`` for the two file paths (the real ones
are temporary) and ``ffmpeg`` for the binary, so the command can be re-run anywhere (I7).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from liuhen.core.media import ffmpeg_exe
from liuhen.transcoder.errors import FfmpegFailed, FfmpegTimeout

INPUT = "{input}"
OUTPUT = "{output}"
GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, check=False, timeout=30)
    first = out.stdout.splitlines()[0] if out.stdout else ""
    m = re.match(r"ffmpeg version (\S+)", first)
    return m.group(1) if m else first.strip()


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    import av

    libs = {k: ".".join(map(str, v)) for k, v in av.library_versions.items()}
    return {"ffmpeg": ffmpeg_version(), "pyav": av.__version__, "pyav_libav": libs.get("libavcodec", "")}


def template(stream: Any) -> list[str]:
    """The argv template (without binary) of an ``ffmpeg-python`` stream graph built on the placeholders."""
    return [*GLOBAL_ARGS, *ffmpeg_python.get_args(stream)]


def record_argv(argv_template: list[str]) -> list[str]:
    return ["ffmpeg", *argv_template]


def concrete(argv_template: list[str], src: Path, dst: Path) -> list[str]:
    subst = {INPUT: str(src), OUTPUT: str(dst)}
    return [ffmpeg_exe(), *(subst.get(a, a.replace(OUTPUT, str(dst))) for a in argv_template)]


def _apply_limits(pid: int, as_bytes: int, cpu_s: int) -> None:
    """Limit the started child from the parent: no Python code may run between fork and exec.

    A ``preexec_fn`` runs Python in the forked child of a threaded process; there the garbage
    collector can free a PyAV frame whose libswscale slice threads no longer exist and wait on
    their condition variable for ever (seen in CI: the worker hung in ``Popen``). ``prlimit``
    on the child's pid applies within microseconds of the exec, before ffmpeg opens its input.
    """
    try:
        if as_bytes > 0:
            resource.prlimit(pid, resource.RLIMIT_AS, (as_bytes, as_bytes))
        if cpu_s > 0:
            resource.prlimit(pid, resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    except ProcessLookupError:
        pass  # it has already exited; its return code says how


@dataclass
class RunResult:
    argv: list[str]
    seconds: float
    stderr: str


def run(argv: list[str], *, timeout_s: float, rlimit_as_mb: int = 0, rlimit_cpu_s: int = 0) -> RunResult:
    """Run a concrete ffmpeg argv; ``FfmpegTimeout`` / ``FfmpegFailed`` (with stderr tail) on failure."""
    cpu = rlimit_cpu_s or int(timeout_s * (os.cpu_count() or 1)) + 10
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        process_group=0,  # its own group, so a timeout kills ffmpeg and anything it started
    )
    try:
        _apply_limits(proc.pid, rlimit_as_mb * 1024 * 1024, cpu)
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        raise FfmpegTimeout(f"ffmpeg did not finish within {timeout_s:.0f} s (killed)") from exc
    except BaseException:
        _kill(proc)  # e.g. dramatiq's TimeLimitExceeded / Shutdown raised into this thread
        raise
    stderr = err.decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = " | ".join(line for line in stderr.strip().splitlines()[-6:])
        why = "killed by resource limit" if proc.returncode < 0 else f"exit {proc.returncode}"
        raise FfmpegFailed(f"ffmpeg failed ({why}): {tail or 'no error output'}")
    return RunResult(argv=argv, seconds=time.perf_counter() - t0, stderr=stderr)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    proc.wait()
