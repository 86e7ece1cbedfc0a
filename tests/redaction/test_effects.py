"""Hiding methods on the real astronaut face: detectors no longer find it, variance/flatness as promised."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.effects import Frame, apply, block_size
from liuhen.redaction.haar import HaarFaces
from liuhen.redaction.regions_core import padded
from liuhen.redaction.synthetic import ASTRONAUT_FACE
from liuhen.redaction.verifier import ssim

_FACE = padded(ASTRONAUT_FACE, 20, 512, 512)
assert _FACE is not None
FACE: tuple[int, int, int, int] = _FACE


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def hidden(method: str) -> np.ndarray:
    img = data.astronaut().copy()
    apply(Frame.rgb(img), FACE, method)
    return img


def test_both_detectors_find_the_face_before(centerface: CenterFace, haar: HaarFaces) -> None:
    img = data.astronaut()
    assert any(overlaps(d.box, ASTRONAUT_FACE) for d in centerface.detect(img))
    assert any(overlaps(d.box, ASTRONAUT_FACE) for d in haar.detect(img))


@pytest.mark.parametrize("method", ["blur", "pixelate", "fill"])
def test_no_detector_finds_the_hidden_face(method: str, centerface: CenterFace, haar: HaarFaces) -> None:
    img = hidden(method)
    assert not [d for d in centerface.detect(img) if overlaps(d.box, ASTRONAUT_FACE)]  # threshold 0.3
    assert not [d for d in haar.detect(img) if overlaps(d.box, ASTRONAUT_FACE)]
    x, y, w, h = FACE
    before, after = data.astronaut()[y:y + h, x:x + w, 1], img[y:y + h, x:x + w, 1]
    score = ssim(before, after)
    assert score is not None and score < 0.3
    outside = np.ones(img.shape[:2], bool)
    outside[y:y + h, x:x + w] = False
    assert np.array_equal(img[outside], data.astronaut()[outside])  # nothing else touched


@pytest.mark.parametrize("method", ["blur", "fill"])
def test_blur_and_fill_remove_over_90_percent_of_the_variance(method: str) -> None:
    x, y, w, h = FACE
    before = data.astronaut()[y:y + h, x:x + w].astype(float).var(axis=(0, 1))  # per colour channel
    after = hidden(method)[y:y + h, x:x + w].astype(float).var(axis=(0, 1))
    assert (after < 0.1 * before).all()


def test_pixelate_blocks_are_flat() -> None:
    x, y, w, h = FACE
    b = block_size(FACE)
    assert b == 2 * -(-min(w, h) // 10)  # ceil(short side / 5), made even
    area = hidden("pixelate")[y:y + h, x:x + w]
    for by in range(0, h, b):
        for bx in range(0, w, b):
            blk = area[by:by + b, bx:bx + b].reshape(-1, 3)
            assert (blk == blk[0]).all()


def test_yuv_planes_line_up() -> None:
    w, h = 64, 32
    buf = np.full(w * h * 3 // 2, 200, np.uint8)
    f = Frame.yuv420p(buf, w, h)
    apply(f, (8, 4, 16, 8), "fill")
    y, u, _v = f.planes
    assert (y[4:12, 8:24] == 16).all() and y.sum() == 200 * (w * h - 128) + 16 * 128
    assert (u[2:6, 4:12] == 128).all() and (u == 128).sum() == 32
