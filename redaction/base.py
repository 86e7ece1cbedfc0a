"""The detector interface: anything that finds faces in an RGB frame can replace CenterFace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Detection:
    """A face box in the pixel coordinates of the frame given to ``detect`` (integers) and its score."""

    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


class FaceDetector(Protocol):
    """``name`` and ``model_sha256`` go into derivation records; ``params`` are every setting that matters."""

    name: str
    model_sha256: str

    def params(self) -> dict[str, object]: ...

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an H×W×3 uint8 RGB frame."""
        ...
