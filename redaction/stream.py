"""One-pass face redaction of a video: decode once, detect while earlier frames are hidden and encoded.

The two-pass way (``detect.detect_faces`` over the clip, then ``render``) decodes the clip twice and
leaves one core idle in each pass. Here one ffmpeg decodes yuv420p frames for the renderer; every
``stride``-th frame also goes to the detector, in a worker thread (onnxruntime and OpenCV release the
GIL), while the main thread hides and pipes earlier frames into the encoder (its own process). The
detections are linked in frame order by the same ``track.Linker`` the offline pass uses; a frame is
rendered only once its regions can no longer change — ``track.settle_frames`` after the last linked
sample — so the frames wait in a short buffer (about two seconds at the defaults).

Determinism: the region list at the end is exactly ``detect_faces``'s for the same inputs (same
decoder, same ``detect.detect_input`` conversion, same linker), and every frame was hidden with the
regions that list gives it — checked frame by frame after the last frame (logged if not, and
otherwise the copy is rendered again from the final list the two-pass way).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liuhen.redaction.base import Detection, FaceDetector
from liuhen.redaction.detect import DetectParams, DetectResult, decode_template, regions_of, sample_faces
from liuhen.redaction.effects import Frame, apply_regions
from liuhen.redaction.errors import RedactionMediaFailed
from liuhen.redaction.media import Encoder, MediaInfo, concrete, raw_frames
from liuhen.redaction.regions_core import Rect, active
from liuhen.redaction.render import RenderParams, RenderResult, file_digest, render_video, templates
from liuhen.redaction.track import Linker, settle_frames

log = logging.getLogger(__name__)
# Two detections at once (each onnxruntime run on one thread, so results do not depend on it): the detector is
# the longest stage, and with one thread it left a core idle whenever decode and encode paused. 20 s of 1080p30
# on 2 cores: 20.1 s → 15–16 s wall.
DETECT_THREADS = 2
# Lookahead: decoded frames may run this far ahead of the oldest pending detection (≈ 170 frames of 1080p,
# 5.6 s). With room for only two samples the decoder, the detector and the encoder took turns.
BUFFER_BYTES = 512 << 20
Applied = list[tuple[str, str, str, Rect]]  # (region id, mode, method, rect) per frame


@dataclass
class StreamResult:
    doc: dict[str, Any]  # the final region document (faces, then ``extra``)
    detection: DetectResult
    render: RenderResult


def buffer_frames(frame_bytes: int, settle: int, stride: int) -> int:
    """Decoded frames held before the oldest detection must be waited for: ``BUFFER_BYTES`` worth, and never
    fewer than ``settle`` + two samples (the frames a render must wait for, plus room for detections in flight)."""
    return max(settle + 2 * stride, BUFFER_BYTES // frame_bytes)


def _applied(regions: list[tuple[dict[str, Any], Rect]]) -> Applied:
    return [(r["id"], r["mode"], r["method"], rect) for r, rect in regions]


class _State:
    """Linked detections so far and the partial region document they give."""

    def __init__(self, info: MediaInfo, params: DetectParams, extra: list[dict[str, Any]],
                 audio: list[dict[str, Any]]) -> None:
        self.info, self.params, self.extra, self.audio = info, params, extra, audio
        self.linker = Linker(max_gap=params.max_gap)
        self.samples: list[tuple[int, list[Detection]]] = []
        self.linked = -1  # frame of the last linked sample
        self._doc: dict[str, Any] | None = None

    def feed(self, frame: int, dets: list[Detection]) -> None:
        self.linker.feed(frame, dets)
        self.samples.append((frame, dets))
        self.linked, self._doc = frame, None

    def doc(self) -> dict[str, Any]:
        if self._doc is None:
            faces = regions_of(self.linker.tracks(), self.info, self.params)
            self._doc = {"media": self.info.as_doc(), "regions": [*faces, *self.extra], "audio": self.audio}
        return self._doc


def redact_video(src: Path, dst: Path, info: MediaInfo, detector: FaceDetector, params: DetectParams,
                 extra: list[dict[str, Any]], audio: list[dict[str, Any]], rparams: RenderParams) -> StreamResult:
    """Detect, track and render ``src`` to ``dst`` in one decode; ``extra``: manual/keep regions."""
    if info.width % 2 or info.height % 2:
        raise RedactionMediaFailed(f"{info.width}x{info.height}: H.264 4:2:0 needs even dimensions")
    t0 = time.perf_counter()
    st = _State(info, params, extra, audio)
    argv = templates(info, {"audio": audio}, rparams)
    settle = settle_frames(stride=params.stride, hold=params.hold, max_gap=params.max_gap)
    limit = buffer_frames(info.width * info.height * 3 // 2, settle, params.stride)
    pending: deque[tuple[int, Future[list[Detection]]]] = deque()
    buffered: deque[tuple[int, np.ndarray]] = deque()
    applied: list[Applied] = []
    media = info.as_doc()
    enc = Encoder(concrete(argv["encode"][1:], src, dst))

    def emit(i: int, buf: np.ndarray) -> None:
        regions = active(st.doc(), i)
        apply_regions(Frame.yuv420p(buf, info.width, info.height), media, regions)
        applied.append(_applied(regions))
        enc.write(buf)

    try:
        with ThreadPoolExecutor(max_workers=DETECT_THREADS, thread_name_prefix="liuhen-detect") as pool:
            for i, buf in enumerate(raw_frames(concrete(argv["decode"][1:], src), info.width * info.height * 3 // 2)):
                if i % params.stride == 0:  # the frame is hidden only after its own detection has finished
                    pending.append((i, pool.submit(sample_faces, detector, buf, info, params)))
                buffered.append((i, buf))
                while pending and (pending[0][1].done() or len(buffered) > limit):
                    f, fut = pending.popleft()
                    st.feed(f, fut.result())
                while buffered and buffered[0][0] + settle <= st.linked:
                    emit(*buffered.popleft())
            while pending:
                f, fut = pending.popleft()
                st.feed(f, fut.result())
            st.linked = info.frames + settle  # everything is linked: the document is final
            while buffered:
                emit(*buffered.popleft())
    except BaseException:
        enc.abort()
        raise
    enc.close()
    n = len(applied)
    if n != info.frames:
        dst.unlink(missing_ok=True)
        raise RedactionMediaFailed(f"decoded {n} frames, the region list expects {info.frames}")
    doc = st.doc()
    det = DetectResult(doc["regions"][:len(doc["regions"]) - len(extra)], st.samples, time.perf_counter() - t0,
                       ["ffmpeg", *decode_template(info, params)])
    wrong = next((i for i, got in enumerate(applied) if got != _applied(active(doc, i))), None)
    if wrong is not None:  # cannot happen if settle_frames is right; never hand out such a copy
        log.warning("streamed frame %d was hidden with other regions than the final list's; rendering again", wrong)
        return StreamResult(doc, det, render_video(src, dst, info, doc, rparams))
    sha, size = file_digest(dst)
    return StreamResult(doc, det, RenderResult(sha, size, n, time.perf_counter() - t0, "video/mp4", argv))
