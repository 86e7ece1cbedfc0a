"""Detection: every ``stride``-th frame, converted to RGB at the detector's size, faces linked into tracks.

``detect_faces`` is the offline pass (decode only the sampled frames); ``stream`` runs the same
``sample_faces`` on the frames it decodes for rendering. Both convert the decoded yuv420p frame with
``detect_input`` (OpenCV BT.601 limited-range I420 → RGB, area resize), so the detector sees the same
pixels either way and re-running the recorded detection reproduces the region list.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from liuhen.redaction.base import Detection, FaceDetector
from liuhen.redaction.media import GLOBAL, MediaInfo, concrete, raw_frames
from liuhen.redaction.track import Track, link, tracks_to_regions

STRIDE = 10  # with tracking interpolation; 1280-wide detection costs ~0.18 CPU-s per call on these cores
DETECT_SIDE = 1280  # 1280×720 for 1080p: CenterFace finds 30 px faces (0.25 recall at 960, ≥ 0.9 here)


@dataclass(frozen=True)
class DetectParams:
    stride: int = STRIDE  # detect on every n-th frame
    max_gap: int = 3  # sampled frames a track may go undetected (3 × 10 frames = 1 s at the defaults)
    hold: int = 6  # frames a track is kept beyond its first/last detection (plus one stride)
    pad_pct: int = 20
    method: str = "blur"
    max_side: int = DETECT_SIDE  # frames are scaled (area) so neither side exceeds this before detection

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class DetectResult:
    regions: list[dict[str, object]]
    samples: list[tuple[int, list[Detection]]]  # full-resolution boxes per sampled frame
    seconds: float
    argv: list[str]


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    f = min(1.0, max_side / max(width, height))
    return max(2, round(width * f / 2) * 2), max(2, round(height * f / 2) * 2)


def decode_template(info: MediaInfo, params: DetectParams) -> list[str]:
    """The offline pass's decoder: only the sampled frames, full size, yuv420p (as the renderer decodes)."""
    vf = f"select='not(mod(n\\,{params.stride}))'"
    return [*GLOBAL, "-i", "{input}", "-map", "0:v:0", "-vf", vf, "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "{output}"]


def detect_input(yuv: np.ndarray, width: int, height: int, max_side: int) -> np.ndarray:
    """RGB detector input from a decoded yuv420p frame: I420 → RGB (OpenCV, BT.601), area-scaled to ``max_side``."""
    rgb = cv2.cvtColor(yuv.reshape(height * 3 // 2, width), cv2.COLOR_YUV2RGB_I420)
    dw, dh = scaled_size(width, height, max_side)
    return rgb if (dw, dh) == (width, height) else cv2.resize(rgb, (dw, dh), interpolation=cv2.INTER_AREA)


def sample_faces(detector: FaceDetector, yuv: np.ndarray, info: MediaInfo, params: DetectParams) -> list[Detection]:
    """Faces in one decoded frame, in full-resolution pixels."""
    dw, dh = scaled_size(info.width, info.height, params.max_side)
    sx, sy = info.width / dw, info.height / dh
    found = detector.detect(detect_input(yuv, info.width, info.height, params.max_side))
    return [Detection(round(d.x * sx), round(d.y * sy), max(1, round(d.w * sx)), max(1, round(d.h * sy)), d.score)
            for d in found]


def regions_of(tracks: list[Track], info: MediaInfo, params: DetectParams) -> list[dict[str, object]]:
    return tracks_to_regions(tracks, stride=params.stride, hold=params.hold, last_frame=info.frames - 1,
                             method=params.method, pad_pct=params.pad_pct)


def detect_faces(src: Path, info: MediaInfo, detector: FaceDetector, params: DetectParams) -> DetectResult:
    """Faces of the whole clip as region entries (``kind: face``), deterministic for the same inputs."""
    t0 = time.perf_counter()
    template = decode_template(info, params)
    samples: list[tuple[int, list[Detection]]] = []
    for k, buf in enumerate(raw_frames(concrete(template, src), info.width * info.height * 3 // 2)):
        samples.append((k * params.stride, sample_faces(detector, buf, info, params)))
    regions = regions_of(link(samples, max_gap=params.max_gap), info, params)
    return DetectResult(regions, samples, time.perf_counter() - t0, ["ffmpeg", *template])
