"""File-level redaction steps without the catalog: draft a region list, render it, describe the derivation."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liuhen.redaction.base import Detection, FaceDetector
from liuhen.redaction.detect import DetectParams, DetectResult, detect_faces
from liuhen.redaction.effects import OPENCV_VERSION
from liuhen.redaction.media import MediaInfo, probe
from liuhen.redaction.regions import build, digest, manual_region, mute_range
from liuhen.redaction.render import RenderParams, RenderResult, render
from liuhen.redaction.stream import redact_video
from liuhen.transcoder.tool import ffmpeg_version

PIPELINE_VERSION = "liuhen-redaction/1"


@dataclass
class Draft:
    info: MediaInfo
    doc: dict[str, Any]
    detection: dict[str, Any] | None  # what reproduces the face regions (None: no detection run)
    samples: list[tuple[int, list[Detection]]] = field(default_factory=list)  # raw detections per sampled frame


TimedBox = tuple[int, int, tuple[int, int, int, int]]


def draft(src: Path, *, kind: str = "video", detector: FaceDetector | None = None,
          detect: DetectParams | None = None, boxes: Sequence[TimedBox] = (),
          mutes: Sequence[tuple[int, int]] = (), tone: bool = False, method: str = "blur",
          keep: Sequence[TimedBox] = ()) -> Draft:
    """Region list for ``src``: detected faces (when ``detector``), manual boxes, kept boxes, audio ranges."""
    info = probe(src, kind=kind)
    regions: list[dict[str, Any]] = []
    detection: dict[str, Any] | None = None
    samples: list[tuple[int, list[Detection]]] = []
    if detector is not None:
        params = detect or DetectParams(method=method)
        res: DetectResult = detect_faces(src, info, detector, params)
        regions.extend(res.regions)
        samples = res.samples
        detection = {"detector": detector.name, "model_sha256": detector.model_sha256,
                     "detector_params": detector.params(), "params": params.as_dict(), "argv": res.argv,
                     "faces": len(res.regions), "seconds": round(res.seconds, 3)}
    for n, (t0, t1, box) in enumerate(boxes, start=1):
        regions.append(manual_region(f"manual-{n:04d}", t0, t1, box, method=method))
    for n, (t0, t1, box) in enumerate(keep, start=1):
        regions.append(manual_region(f"keep-{n:04d}", t0, t1, box, method=method, mode="keep"))
    audio = [mute_range(t0, t1, "tone" if tone else "mute") for t0, t1 in mutes]
    return Draft(info, build(info.as_doc(), regions, audio), detection, samples)


def draft_and_render(src: Path, dst: Path, *, kind: str = "video", detector: FaceDetector | None = None,
                     detect: DetectParams | None = None, boxes: Sequence[TimedBox] = (),
                     mutes: Sequence[tuple[int, int]] = (), tone: bool = False, method: str = "blur",
                     keep: Sequence[TimedBox] = (), render: RenderParams | None = None) -> tuple[Draft, RenderResult]:
    """``draft`` + ``render_draft``; a video with face detection is done in one decode (``stream``)."""
    rparams = render or RenderParams()
    if detector is None or kind == "photo":
        d = draft(src, kind=kind, detector=detector, detect=detect, boxes=boxes, mutes=mutes, tone=tone,
                  method=method, keep=keep)
        return d, render_draft(src, dst, d, rparams)
    info = probe(src, kind=kind)
    params = detect or DetectParams(method=method)
    base = draft(src, kind=kind, boxes=boxes, mutes=mutes, tone=tone, method=method, keep=keep)
    out = redact_video(src, dst, info, detector, params, base.doc["regions"], base.doc["audio"], rparams)
    doc = build(out.doc["media"], out.doc["regions"], out.doc["audio"])
    detection = {"detector": detector.name, "model_sha256": detector.model_sha256,
                 "detector_params": detector.params(), "params": params.as_dict(), "argv": out.detection.argv,
                 "faces": len(out.detection.regions), "seconds": round(out.detection.seconds, 3), "one_pass": True}
    return Draft(info, doc, detection, out.detection.samples), out.render


def tool_versions() -> dict[str, str]:
    return {"pipeline": PIPELINE_VERSION, "ffmpeg": ffmpeg_version(), "opencv": OPENCV_VERSION,
            "numpy": np.__version__, "python": platform.python_version()}


def derivation(src_sha256: str, src_size: int, d: Draft, params: RenderParams, res: RenderResult) -> dict[str, Any]:
    """I7 record of a rendered copy: input, every parameter, the exact region list and its digest, tools."""
    return {
        "input": {"sha256": src_sha256, "size": src_size},
        "derivative": {"kind": "redacted", "sha256": res.sha256, "size": res.size, "mime": res.mime,
                       "frames": res.frames},
        "regions": d.doc,
        "regions_sha256": digest(d.doc),
        "detection": d.detection,
        "parameters": {"render": params.as_dict()},
        "argv": res.argv,
        "tool": tool_versions(),
        "mode": "redact",
    }


def render_draft(src: Path, dst: Path, d: Draft, params: RenderParams | None = None) -> RenderResult:
    return render(src, dst, d.info, d.doc, params or RenderParams())
