"""A second, different face detector: OpenCV 4.x's frontal-face Haar cascade (ships in the wheel).

Used to check that redacted faces are gone for more than the detector that found them; it also
satisfies ``FaceDetector`` so it can stand in where CenterFace is unavailable (lower recall).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from liuhen.redaction.base import Detection
from liuhen.redaction.errors import DetectorUnavailable

CASCADE = "haarcascade_frontalface_default.xml"


class HaarFaces:
    name = f"opencv {cv2.__version__} {CASCADE}"

    def __init__(self, *, min_neighbors: int = 3, min_size: int = 20, scale_factor: float = 1.1) -> None:
        path = Path(cv2.data.haarcascades) / CASCADE  # type: ignore[attr-defined]
        if not path.is_file():
            raise DetectorUnavailable(f"Haar cascade {path} not found (OpenCV 5 wheels no longer ship them)")
        self.model_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self._cascade = cv2.CascadeClassifier(str(path))
        self.min_neighbors, self.min_size, self.scale_factor = min_neighbors, min_size, scale_factor

    def params(self) -> dict[str, object]:
        return {"min_neighbors": self.min_neighbors, "min_size": self.min_size, "scale_factor": self.scale_factor}

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
        )
        return [Detection(int(x), int(y), int(w), int(h), 1.0) for x, y, w, h in found]
