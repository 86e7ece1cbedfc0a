"""Thin media I/O: probe with PyAV; decode/encode raw frames through ffmpeg pipes (imageio-ffmpeg binary).

Recorded command lines use ``ffmpeg`` for the binary and ``{input}`` / ``{output}`` for the paths,
like the transcoder's derivation records, so they can be re-run anywhere (I7).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO

import av
import numpy as np

from liuhen.core.media import ffmpeg_exe
from liuhen.redaction.errors import RedactionMediaFailed

GLOBAL = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # video | photo
    width: int
    height: int
    fps: tuple[int, int]
    frames: int
    audio_rate: int | None  # None: no audio stream

    def as_doc(self) -> dict[str, object]:
        return {"kind": self.kind, "width": self.width, "height": self.height,
                "fps": [self.fps[0], self.fps[1]], "frames": self.frames}


def probe(path: Path, *, kind: str = "video") -> MediaInfo:
    """Dimensions, constant frame rate, exact frame count (packets) and audio sample rate."""
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise RedactionMediaFailed(f"{path.name}: no video stream")
            v = c.streams.video[0]
            a = c.streams.audio[0] if c.streams.audio else None
            rate = v.average_rate or v.guessed_rate or Fraction(1)
            frames = v.frames
            if kind == "photo":
                frames = 1
            elif not frames:
                frames = sum(1 for p in c.demux(v) if p.size)
            return MediaInfo(kind, v.codec_context.width, v.codec_context.height,
                             (rate.numerator, rate.denominator), int(frames),
                             a.codec_context.sample_rate if a is not None else None)
    except av.FFmpegError as exc:
        raise RedactionMediaFailed(f"{path.name}: cannot be probed: {exc}") from exc


def concrete(template: list[str], src: Path, dst: Path | None = None) -> list[str]:
    subst = {"{input}": str(src), "{output}": str(dst) if dst else "-"}
    return [ffmpeg_exe(), *(subst.get(a, a) for a in template)]


def raw_frames(argv: list[str], frame_bytes: int) -> Iterator[np.ndarray]:
    """Run a decoder argv writing raw frames to stdout; yield each frame as a writable uint8 buffer."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert isinstance(proc.stdout, io.BufferedReader) and proc.stderr is not None
    try:
        while True:
            buf = bytearray(frame_bytes)  # read straight into the frame's own buffer: no second copy
            if proc.stdout.readinto(buf) < frame_bytes:
                break
            yield np.frombuffer(buf, np.uint8)
        err = proc.stderr.read().decode("utf-8", "replace")
        if proc.wait() != 0:
            raise RedactionMediaFailed(f"ffmpeg could not decode: {err.strip()[-400:] or 'no error output'}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


class Encoder:
    """An ffmpeg process reading raw frames on stdin; ``close()`` waits and raises on failure."""

    def __init__(self, argv: list[str]) -> None:
        self.err = tempfile.TemporaryFile()  # a file, not a pipe: a chatty encoder can never block us
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.err)
        assert self.proc.stdin is not None
        self.stdin: IO[bytes] = self.proc.stdin

    def write(self, buf: np.ndarray) -> None:
        try:
            self.stdin.write(buf.data)
        except BrokenPipeError as exc:
            self.close()
            raise RedactionMediaFailed("ffmpeg encoder exited early") from exc

    def close(self, timeout: float = 3600) -> None:
        if not self.stdin.closed:
            try:
                self.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.abort()
            raise RedactionMediaFailed(f"ffmpeg encoder did not finish within {timeout:.0f} s") from exc
        self.err.seek(0)
        err = self.err.read()
        self.err.close()
        if self.proc.returncode != 0:
            msg = err.decode("utf-8", "replace").strip()[-400:]
            raise RedactionMediaFailed(f"ffmpeg could not encode: {msg or 'exit ' + str(self.proc.returncode)}")

    def abort(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.err.close()
