"""Hiding methods on planar YUV 4:2:0 frames (what ffmpeg decodes to and libx264 encodes from).

- blur: the area is shrunk to at most ``BLUR_CELLS`` cells on its shorter side, cells of at least
  ``BLUR_MIN_CELL`` px (so a thin strip at the picture edge is flattened too; area average), enlarged
  back bilinearly and Gaussian-smoothed — strong enough that neither CenterFace nor a Haar cascade
  finds a face there any more, and the area's variance drops by more than 90 % (tested);
- pixelate: blocks of ``ceil(short side / PIXEL_CELLS)`` px (even), each set to its mean — flat blocks;
- fill: solid black (Y=16, U=V=128, limited range; RGB 0 for photos).

Rectangles have even coordinates (``regions_core.padded``) so the chroma planes line up exactly.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from liuhen.redaction.regions_core import Rect, active

OPENCV_VERSION = cv2.__version__
BLUR_CELLS = 2
BLUR_MIN_CELL = 16  # px: a thin strip (a face half out of the picture) is averaged in cells at least this big
PIXEL_CELLS = 5
FILL_YUV = (16, 128, 128)


class Frame:
    """Writable plane views of one picture: yuv420p video frames, or RGB photos (``rgb()``)."""

    def __init__(self, planes: tuple[np.ndarray, ...], subs: tuple[int, ...], fill: tuple[int, ...]) -> None:
        self.planes, self.subs, self.fill = planes, subs, fill

    @classmethod
    def yuv420p(cls, buf: np.ndarray, width: int, height: int) -> Frame:
        ysz, csz = width * height, (width // 2) * (height // 2)
        planes = (
            buf[:ysz].reshape(height, width),
            buf[ysz:ysz + csz].reshape(height // 2, width // 2),
            buf[ysz + csz:ysz + 2 * csz].reshape(height // 2, width // 2),
        )
        return cls(planes, (1, 2, 2), FILL_YUV)

    @classmethod
    def rgb(cls, img: np.ndarray) -> Frame:
        """Planes are views into ``img`` (H×W×3), so effects write through."""
        return cls((img[:, :, 0], img[:, :, 1], img[:, :, 2]), (1, 1, 1), (0, 0, 0))


def _blur(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    f = min(BLUR_CELLS / min(h, w), 1 / BLUR_MIN_CELL)
    sw, sh = max(1, round(w * f)), max(1, round(h * f))
    small = cv2.resize(a, (sw, sh), interpolation=cv2.INTER_AREA)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    k = max(3, (min(h, w) // 2) | 1)
    return cv2.stackBlur(big, (k, k))  # a Gaussian's look at O(1) per pixel (GaussianBlur is O(k): 45× slower here)


def _pixelate(a: np.ndarray, block: int) -> np.ndarray:
    out = a.copy()
    h, w = a.shape
    for y in range(0, h, block):
        for x in range(0, w, block):
            blk = a[y:y + block, x:x + block]
            out[y:y + block, x:x + block] = int(blk.mean() + 0.5)
    return out


def block_size(rect: Rect) -> int:
    """Pixelation block (luma px, even) for a rectangle."""
    b = -(-min(rect[2], rect[3]) // PIXEL_CELLS)
    return max(2, b + b % 2)


def apply(frame: Frame, rect: Rect, method: str) -> None:
    """Hide ``rect`` of ``frame`` in place with ``method``."""
    x, y, w, h = rect
    for p, (plane, s) in enumerate(zip(frame.planes, frame.subs, strict=True)):
        area = plane[y // s:(y + h) // s, x // s:(x + w) // s]
        if area.size == 0:
            continue
        if method == "fill":
            area[...] = frame.fill[p]
        elif method == "pixelate":
            area[...] = _pixelate(area, max(1, block_size(rect) // s))
        else:
            area[...] = _blur(area)


def apply_regions(frame: Frame, media: dict[str, Any], regions: list[tuple[dict[str, Any], Rect]]) -> None:
    """Hide the given active regions (``regions_core.active`` order): keep regions first, then hides."""
    keeps = [(r, rect) for r, rect in regions if r["mode"] == "keep"]
    if keeps:
        kept = [(rect, [p[rect[1] // s:(rect[1] + rect[3]) // s, rect[0] // s:(rect[0] + rect[2]) // s].copy()
                        for p, s in zip(frame.planes, frame.subs, strict=True)]) for _, rect in keeps]
        apply(frame, (0, 0, media["width"], media["height"]), keeps[0][0]["method"])
        for (x, y, w, h), saved in kept:
            for p, s, data in zip(frame.planes, frame.subs, saved, strict=True):
                p[y // s:(y + h) // s, x // s:(x + w) // s] = data
    for r, rect in regions:
        if r["mode"] == "hide":
            apply(frame, rect, r["method"])


def redact_frame(frame: Frame, doc: dict[str, Any], index: int) -> int:
    """Apply every region active in frame ``index``; returns how many were applied."""
    regions = active(doc, index)
    apply_regions(frame, doc["media"], regions)
    return len(regions)
