"""Render the redacted copy: H.264/AAC MP4 for video (JPEG for photos), regions applied frame by frame.

Video: ffmpeg decodes the original to raw yuv420p on a pipe, ``effects.redact_frame`` hides every
active region, a second ffmpeg encodes libx264 (``crf``/``preset``) with the original's audio, muted
(``volume=0``) or replaced by a 1 kHz tone in the listed ranges, AAC 192k, ``+faststart``. Frame *i*
of the copy is frame *i* of the original (constant rate, same count) — what ``verifier`` relies on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from liuhen.core.codec import sha256_file
from liuhen.redaction.effects import Frame, redact_frame
from liuhen.redaction.errors import RedactionMediaFailed
from liuhen.redaction.media import GLOBAL, Encoder, MediaInfo, concrete, raw_frames
from liuhen.redaction.regions_core import audio_ranges

TONE_HZ = 1000
TONE_GAIN = 0.2


@dataclass(frozen=True)
class RenderParams:
    crf: int = 18
    preset: str = "ultrafast"  # a third of veryfast's CPU at 1080p: what lets redaction keep up with realtime
    threads: int = 0  # 0: libx264 decides; set it to reproduce byte-identical output on another machine
    audio_bitrate: str = "192k"
    jpeg_quality: int = 95

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class RenderResult:
    sha256: str
    size: int
    frames: int
    seconds: float
    mime: str
    argv: dict[str, list[str]] = field(default_factory=dict)


def _between(ranges: list[tuple[int, int]]) -> str:
    return "+".join(f"between(t,{a / 1000:.3f},{b / 1000:.3f})" for a, b in ranges)


def audio_filter(doc: dict[str, Any], sample_rate: int) -> list[str]:
    """ffmpeg arguments mapping the (muted/toned) audio of input 1; [] when nothing is changed."""
    every, tones = audio_ranges(doc), audio_ranges(doc, "tone")
    if not every:
        return ["-map", "1:a:0", "-c:a", "aac"]
    muted = f"[1:a:0]volume=volume=0:enable='{_between(every)}'"
    if not tones:
        return ["-filter_complex", f"{muted}[aout]", "-map", "[aout]", "-c:a", "aac"]
    tone = (f"sine=frequency={TONE_HZ}:sample_rate={sample_rate},volume={TONE_GAIN},"
            f"volume=volume=0:enable='not({_between(tones)})'")
    graph = f"{muted}[m];{tone}[s];[m][s]amix=inputs=2:duration=first:normalize=0[aout]"
    return ["-filter_complex", graph, "-map", "[aout]", "-c:a", "aac"]


def templates(info: MediaInfo, doc: dict[str, Any], params: RenderParams) -> dict[str, list[str]]:
    dec = [*GLOBAL, "-i", "{input}", "-map", "0:v:0", "-fps_mode", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    audio = audio_filter(doc, info.audio_rate) if info.audio_rate else []
    if audio:
        audio = [*audio, "-b:a", params.audio_bitrate]
    enc = [*GLOBAL, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{info.width}x{info.height}",
           "-framerate", f"{info.fps[0]}/{info.fps[1]}", "-i", "pipe:0", "-i", "{input}", "-map", "0:v:0",
           *audio, "-c:v", "libx264", "-preset", params.preset, "-crf", str(params.crf), "-pix_fmt", "yuv420p",
           *(["-threads", str(params.threads)] if params.threads else []),
           "-map_metadata", "-1", "-movflags", "+faststart", "{output}"]
    return {"decode": ["ffmpeg", *dec], "encode": ["ffmpeg", *enc]}


def file_digest(path: Path) -> tuple[str, int]:
    return sha256_file(path), path.stat().st_size


def render_video(src: Path, dst: Path, info: MediaInfo, doc: dict[str, Any], params: RenderParams) -> RenderResult:
    if info.width % 2 or info.height % 2:
        raise RedactionMediaFailed(f"{info.width}x{info.height}: H.264 4:2:0 needs even dimensions")
    t0 = time.perf_counter()
    argv = templates(info, doc, params)
    enc = Encoder(concrete(argv["encode"][1:], src, dst))
    n = 0
    try:
        for buf in raw_frames(concrete(argv["decode"][1:], src), info.width * info.height * 3 // 2):
            redact_frame(Frame.yuv420p(buf, info.width, info.height), doc, n)
            enc.write(buf)
            n += 1
    except BaseException:
        enc.abort()
        raise
    enc.close()
    if n != info.frames:
        dst.unlink(missing_ok=True)
        raise RedactionMediaFailed(f"decoded {n} frames, the region list expects {info.frames}")
    sha, size = file_digest(dst)
    return RenderResult(sha, size, n, time.perf_counter() - t0, "video/mp4", argv)


def render_photo(src: Path, dst: Path, doc: dict[str, Any], params: RenderParams) -> RenderResult:
    """JPEG copy (no metadata: EXIF incl. GPS is dropped), orientation as stored (like ffmpeg reads it)."""
    t0 = time.perf_counter()
    img = cv2.imdecode(np.fromfile(str(src), np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        raise RedactionMediaFailed(f"{src.name}: not a readable image")
    redact_frame(Frame.rgb(img), doc, 0)
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
    if not ok:
        raise RedactionMediaFailed(f"{src.name}: JPEG encoding failed")
    dst.write_bytes(data.tobytes())
    sha, size = file_digest(dst)
    argv = {"encode": ["opencv", cv2.__version__, "imencode", ".jpg", f"quality={params.jpeg_quality}"]}
    return RenderResult(sha, size, 1, time.perf_counter() - t0, "image/jpeg", argv)


def render(src: Path, dst: Path, info: MediaInfo, doc: dict[str, Any], params: RenderParams) -> RenderResult:
    if info.kind == "photo":
        return render_photo(src, dst, doc, params)
    return render_video(src, dst, info, doc, params)
