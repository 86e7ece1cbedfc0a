"""Footage with real faces and known face boxes, for tests, the benchmark and demos (no downloads).

Faces: scikit-image's ``astronaut()`` (public domain, Eileen Collins, NASA; inside the scikit-image
wheel), mirrored and tinted for variety, pasted as a head-and-shoulders crop onto an ffmpeg-made
moving background (``gradients`` + sensor noise), moving, optionally walking out of view. Audio:
ffmpeg's pink noise plus a 440 Hz tone (48 kHz stereo), so audio checks have signal everywhere.
Needs scikit-image (a dev/bench dependency, not a runtime one).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from liuhen.core.media import ffmpeg_exe

# The face box of astronaut() as CenterFace finds it (x, y, w, h); head crop = this grown by one face
# width/height on every side (clipped to the image).
ASTRONAUT_FACE = (183, 59, 89, 119)


@dataclass(frozen=True)
class FaceSpec:
    size: int  # face box height in output pixels
    x: float  # face box top-left at frame 0
    y: float
    vx: float = 0.0  # px per frame
    vy: float = 0.0
    variant: int = 0  # 0 plain, 1 mirrored, 2 warmer tint, 3 mirrored + cooler tint
    hide_frames: tuple[int, int] | None = None  # [a, b): face covered by a grey card (detector "misses")


@lru_cache(maxsize=8)
def head(variant: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """RGB head crop and the face box inside it."""
    from skimage import data

    img = data.astronaut()
    fx, fy, fw, fh = ASTRONAUT_FACE
    x0, y0 = max(0, fx - fw), max(0, fy - fh)
    x1, y1 = min(img.shape[1], fx + 2 * fw), min(img.shape[0], fy + 2 * fh)
    crop = img[y0:y1, x0:x1].copy()
    box = (fx - x0, fy - y0, fw, fh)
    if variant in (1, 3):
        crop = crop[:, ::-1].copy()
        box = (crop.shape[1] - box[0] - fw, box[1], fw, fh)
    if variant == 2:
        crop = np.clip(crop.astype(np.int16) + np.array([18, 4, -12]), 0, 255).astype(np.uint8)
    if variant == 3:
        crop = np.clip(crop.astype(np.int16) + np.array([-12, 0, 14]), 0, 255).astype(np.uint8)
    return crop, box


def face_box(spec: FaceSpec, frame: int, width: int, height: int) -> tuple[int, int, int, int] | None:
    """True face box in frame ``frame``, clipped to the picture; None when out of view or covered."""
    if spec.hide_frames and spec.hide_frames[0] <= frame < spec.hide_frames[1]:
        return None
    _, (_, _, fw, fh) = head(spec.variant)
    k = spec.size / fh
    x, y = round(spec.x + spec.vx * frame), round(spec.y + spec.vy * frame)
    w, h = round(fw * k), spec.size
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def paste(frame: np.ndarray, spec: FaceSpec, index: int) -> None:
    crop, (bx, by, _, fh) = head(spec.variant)
    k = spec.size / fh
    img = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    x = round(spec.x + spec.vx * index - bx * k)
    y = round(spec.y + spec.vy * index - by * k)
    h, w = frame.shape[:2]
    sx0, sy0 = max(0, -x), max(0, -y)
    dx0, dy0 = max(0, x), max(0, y)
    dx1, dy1 = min(w, x + img.shape[1]), min(h, y + img.shape[0])
    if dx1 > dx0 and dy1 > dy0:
        frame[dy0:dy1, dx0:dx1] = img[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0]
    if spec.hide_frames and spec.hide_frames[0] <= index < spec.hide_frames[1]:
        fb = face_box(FaceSpec(spec.size, spec.x, spec.y, spec.vx, spec.vy, spec.variant), index, w, h)
        if fb:
            frame[fb[1]:fb[1] + fb[3], fb[0]:fb[0] + fb[2]] = 128


def background(width: int, height: int, fps: int, seed: int, noise: int) -> str:
    """A lavfi graph: a slowly turning two-tone gradient with per-frame sensor noise, the same bytes on
    every run for the same arguments. (lavfi ``gradients`` is not: its frames differed between runs even
    with ``seed`` and every colour and point given, so a test clip — and what the detectors found in
    it — changed from run to run.) The gradient is computed by ``geq`` at 80×45 and scaled up."""
    phase = 0.6 + seed
    t = f"clip(0.5+((X-W/2)*cos({phase}+0.6*T)+(Y-H/2)*sin({phase}+0.6*T))/W,0,1)"
    graph = (f"nullsrc=s=80x45:r={fps},format=rgb24,geq=r='74+127*st(0,{t})':g='107+73*ld(0)':b='60+78*(1-ld(0))',"
             f"scale={width}x{height}:flags=bilinear")
    return graph + (f",noise=alls={noise}:allf=t:all_seed={seed}" if noise else "")


def make_clip(out: Path, faces: list[FaceSpec], *, width: int = 640, height: int = 360, fps: int = 30,
              seconds: float = 2.0, crf: int = 18, audio: bool = True, seed: int = 1, noise: int = 6,
              bitrate: str | None = None) -> list[list[tuple]]:
    """Write an H.264/AAC MP4; return per frame the list of (face index, true box) visible in it.

    ``noise``: sensor-noise strength (changes every frame); ``bitrate`` (e.g. ``"10M"``): encode at that
    rate like a body-worn recorder (GA/T 947 class 1080p30 streams run at about 8–12 Mbit/s) instead of ``crf``
    — full-strength per-frame noise at crf 18 makes a ~270 Mbit/s stream no recorder writes."""
    n = round(seconds * fps)
    bg = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", background(width, height, fps, seed, noise),
          "-frames:v", str(n), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    enc = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
           "-framerate", str(fps), "-i", "-"]
    if audio:
        enc += ["-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.15:r=48000:seed={seed}:d={seconds}",
                "-f", "lavfi", "-i", f"sine=f=440:r=48000:d={seconds}",
                "-filter_complex", "[1:a][2:a]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo[a]",
                "-map", "0:v", "-map", "[a]", "-c:a", "aac", "-b:a", "192k"]
    rate = ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate] if bitrate else ["-crf", str(crf)]
    enc += ["-c:v", "libx264", "-preset", "veryfast", *rate, "-pix_fmt", "yuv420p", "-g", str(fps), str(out)]
    src = subprocess.Popen(bg, stdout=subprocess.PIPE)
    sink = subprocess.Popen(enc, stdin=subprocess.PIPE)
    assert src.stdout is not None and sink.stdin is not None
    truth: list[list[tuple]] = []
    for i in range(n):
        buf = src.stdout.read(width * height * 3)
        frame = np.frombuffer(bytearray(buf), np.uint8).reshape(height, width, 3)
        for spec in faces:
            paste(frame, spec, i)
        truth.append([(j, b) for j, s in enumerate(faces) if (b := face_box(s, i, width, height))])
        sink.stdin.write(frame.data)
    sink.stdin.close()
    src.wait()
    if sink.wait() != 0:
        raise RuntimeError(f"ffmpeg could not encode {out}")
    return truth
