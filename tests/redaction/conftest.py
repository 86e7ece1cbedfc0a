"""Redaction fixtures: real faces (scikit-image's astronaut) in ffmpeg-made footage, with known face boxes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from liuhen.redaction.base import Detection
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams
from liuhen.redaction.haar import HaarFaces
from liuhen.redaction.media import Encoder, concrete, raw_frames
from liuhen.redaction.pipeline import Draft, draft, render_draft
from liuhen.redaction.render import RenderResult
from liuhen.redaction.synthetic import FaceSpec, make_clip

# 640×360, 30 fps, 2 s. Face heights 120, 60 and 36 px; all move; the 36 px one leaves the picture on
# the right from about frame 50 on (x = 300 + 6·i, 27 px wide).
FACES = [
    FaceSpec(120, 40, 60, vx=2.0),
    FaceSpec(60, 380, 40, vx=-1.5, vy=1.0, variant=1),
    FaceSpec(36, 300, 250, vx=6.0, variant=2),
]
SUPPRESSED_CALLS = {4, 5, 6}  # detector results dropped on sampled frames 12, 15, 18 (stride 3)
MUTE = (500, 1200)


class Suppressing:
    """A detector that "misses" every face on some calls (turned heads, motion blur)."""

    def __init__(self, inner: CenterFace, calls: set[int]) -> None:
        self.inner, self.calls, self.n = inner, calls, 0
        self.name, self.model_sha256 = inner.name, inner.model_sha256

    def params(self) -> dict[str, object]:
        return self.inner.params()

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        found = self.inner.detect(rgb)
        self.n += 1
        return [] if self.n - 1 in self.calls else found


@dataclass
class Case:
    src: Path
    dst: Path
    truth: list[list[tuple]]
    draft: Draft
    result: RenderResult


@pytest.fixture(scope="session")
def centerface() -> CenterFace:
    return CenterFace(threshold=0.3)


@pytest.fixture(scope="session")
def haar() -> HaarFaces:
    return HaarFaces()


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[tuple]]]:
    path = tmp_path_factory.mktemp("clip") / "faces.mp4"
    return path, make_clip(path, FACES, seconds=2.0)


@pytest.fixture(scope="session")
def redacted(clip: tuple[Path, list[list[tuple]]], tmp_path_factory: pytest.TempPathFactory) -> Case:
    """Faces detected (with suppressed calls), blurred; audio muted 0.5–1.2 s; rendered."""
    src, truth = clip
    det = Suppressing(CenterFace(threshold=0.4), SUPPRESSED_CALLS)
    d = draft(src, detector=det, detect=DetectParams(stride=3), mutes=[MUTE])
    dst = tmp_path_factory.mktemp("out") / "redacted.mp4"
    return Case(src, dst, truth, d, render_draft(src, dst, d))


def rewrite(src: Path, dst: Path, width: int, height: int, change: dict[int, tuple[int, int, int, int, int]]) -> None:
    """Re-encode ``src`` (video only) with luma rectangles set to a value in some frames: {frame: (x, y, w, h, v)}."""
    dec = ["-v", "error", "-i", "{input}", "-map", "0:v:0", "-fps_mode", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    enc = Encoder(concrete(["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
                            "-framerate", "30", "-i", "pipe:0", "-i", "{input}", "-map", "0:v", "-map", "1:a?",
                            "-c:a", "copy", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", "{output}"],
                           src, dst))
    for i, buf in enumerate(raw_frames(concrete(dec, src), width * height * 3 // 2)):
        if i in change:
            x, y, w, h, v = change[i]
            buf[: width * height].reshape(height, width)[y:y + h, x:x + w] = v
        enc.write(buf)
    enc.close()


# the API fixtures (app on the test runtime, one token per role, TestClient) for test_api.py
from tests.api.conftest import app, client, tokens  # noqa: E402, F401


def run_redaction_jobs(runtime, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    """Process the queued render jobs with real dramatiq worker threads (StubBroker) until the queue is empty."""
    from liuhen.redaction import actors
    from liuhen.transcoder.workers import InProcessWorkers

    w = InProcessWorkers(runtime, threads=1).start()
    try:
        w.broker.join(actors.QUEUE, timeout=int(timeout * 1000), fail_fast=False)  # failures are on the rows
        assert w.worker is not None
        w.worker.join()
    finally:
        w.stop()
