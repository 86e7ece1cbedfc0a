"""The second detector (OpenCV 4.x Haar cascade) works and is a different model."""

from __future__ import annotations

from skimage import data

from liuhen.redaction.centerface import MODEL_SHA256
from liuhen.redaction.haar import HaarFaces


def test_haar_finds_the_astronaut_and_reports_its_cascade_digest(haar: HaarFaces) -> None:
    found = haar.detect(data.astronaut())
    assert any(170 <= d.x <= 200 and 50 <= d.y <= 80 for d in found)
    assert len(haar.model_sha256) == 64 and haar.model_sha256 != MODEL_SHA256
    assert "haarcascade_frontalface_default.xml" in haar.name
