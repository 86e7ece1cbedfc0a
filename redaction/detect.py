"""Detection pass: decode every ``stride``-th frame at the detector's size, find faces, link into tracks."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from liuhen.redaction.base import Detection, FaceDetector
from liuhen.redaction.media import GLOBAL, MediaInfo, concrete, raw_frames
from liuhen.redaction.track import link, tracks_to_regions


@dataclass(frozen=True)
class DetectParams:
    stride: int = 3  # detect on every n-th frame
    max_gap: int = 3  # sampled frames a track may go undetected
    hold: int = 6  # frames a track is kept beyond its first/last detection (plus one stride)
    pad_pct: int = 20
    method: str = "blur"
    max_side: int = 960  # frames are scaled (area) so neither side exceeds this before detection

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
    dw, dh = scaled_size(info.width, info.height, params.max_side)
    vf = f"select='not(mod(n\\,{params.stride}))',scale={dw}:{dh}:flags=area"
    return [*GLOBAL, "-i", "{input}", "-map", "0:v:0", "-vf", vf, "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "{output}"]


def detect_faces(src: Path, info: MediaInfo, detector: FaceDetector, params: DetectParams) -> DetectResult:
    """Faces of the whole clip as region entries (``kind: face``), deterministic for the same inputs."""
    t0 = time.perf_counter()
    template = decode_template(info, params)
    dw, dh = scaled_size(info.width, info.height, params.max_side)
    sx, sy = info.width / dw, info.height / dh
    samples: list[tuple[int, list[Detection]]] = []
    for k, buf in enumerate(raw_frames(concrete(template, src), dw * dh * 3)):
        found = detector.detect(buf.reshape(dh, dw, 3))
        full = [Detection(round(d.x * sx), round(d.y * sy), max(1, round(d.w * sx)), max(1, round(d.h * sy)),
                          d.score) for d in found]
        samples.append((k * params.stride, full))
    tracks = link(samples, max_gap=params.max_gap)
    regions = tracks_to_regions(tracks, stride=params.stride, hold=params.hold, last_frame=info.frames - 1,
                                method=params.method, pad_pct=params.pad_pct)
    return DetectResult(regions, samples, time.perf_counter() - t0, ["ffmpeg", *template])
