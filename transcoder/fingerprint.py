"""Perceptual fingerprint: one 64-bit DCT hash per second of video (vPDQ-style, own pHash in numpy).

Hash of a frame: 32×32 gray (``frame.reformat``, area filter) → 2-D DCT-II → the top-left 8×8 block
(lowest frequencies) → bit = coefficient > median of the 63 AC coefficients (row-major, bit 63 first).
Frames: keyframes only (``skip_frame="NONKEY"``) — recorders write one every second; if keyframes
do not land on at least 80 % of the whole seconds (e.g. a re-encoded excerpt) the stream is decoded
fully and the frame nearest each whole second (within half a frame) is hashed instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from liuhen.transcoder.errors import ProbeFailed

ALGO = "dct64-v1"
SIZE = 32


@lru_cache(maxsize=1)
def _dct_rows() -> np.ndarray:
    """The first 8 rows of the orthonormal 32-point DCT-II matrix."""
    n = np.arange(SIZE)
    k = np.arange(8)[:, None]
    m = np.cos(np.pi * (2 * n + 1) * k / (2 * SIZE)) * np.sqrt(2.0 / SIZE)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float64)


_WEIGHTS = (1 << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def phash_batch(grays: np.ndarray) -> np.ndarray:
    """Hashes (uint64) of a stack of 32×32 gray images, shape (k, 32, 32)."""
    d = _dct_rows()
    low = np.einsum("ij,kjl,ml->kim", d, grays.astype(np.float64), d).reshape(len(grays), 64)
    med = np.median(low[:, 1:], axis=1, keepdims=True)
    bits = (low > med).astype(np.uint64)
    return (bits * _WEIGHTS).sum(axis=1, dtype=np.uint64)


def phash(gray: np.ndarray) -> int:
    return int(phash_batch(gray[None])[0])


@dataclass
class Fingerprint:
    seconds: np.ndarray  # int32, whole seconds from the start
    hashes: np.ndarray  # uint64
    mode: str  # keyframes | full
    frames_decoded: int

    def digest(self) -> str:
        """SHA-256 over (t, hash) pairs, big-endian: names this fingerprint in the audit log."""
        h = hashlib.sha256(ALGO.encode())
        for t, v in zip(self.seconds.tolist(), self.hashes.tolist(), strict=True):
            h.update(int(t).to_bytes(4, "big", signed=True) + int(v).to_bytes(8, "big"))
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self.seconds)


def _gray(frame: av.VideoFrame) -> np.ndarray:
    small = frame.reformat(width=SIZE, height=SIZE, format="gray", interpolation="AREA")
    return small.to_ndarray().reshape(SIZE, SIZE)


def _collect(path: Path, keyframes_only: bool) -> tuple[dict[int, np.ndarray], int, float]:
    """Frames nearest each whole second (within half a frame), as 32×32 gray, keyed by the second."""
    got: dict[int, tuple[float, np.ndarray]] = {}
    decoded = 0
    with av.open(str(path), metadata_errors="ignore") as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        if keyframes_only:
            stream.codec_context.skip_frame = "NONKEY"
        rate = stream.average_rate or stream.guessed_rate
        tol = 0.5 / float(rate) + 1e-3 if rate else 0.02
        dur = float(c.duration / 1_000_000) if c.duration else 0.0
        tb = stream.time_base
        if tb is None:
            raise ProbeFailed(f"video stream of {path.name} has no time base; frame times are unknown")
        start = stream.start_time * tb if stream.start_time is not None else 0
        for frame in c.decode(stream):
            decoded += 1
            if frame.pts is None:
                continue
            t = float(frame.pts * tb - start)
            sec = round(t)
            off = abs(t - sec)
            if sec < 0 or off > tol or (sec in got and got[sec][0] <= off):
                continue
            got[sec] = (off, _gray(frame))
    return {k: v[1] for k, v in got.items()}, decoded, dur


def fingerprint(path: Path) -> Fingerprint:
    """Per-second hashes of the first video stream of ``path``."""
    got, decoded, dur = _collect(path, keyframes_only=True)
    mode = "keyframes"
    expected = max(1, int(dur))
    if len(got) < max(2, int(0.8 * expected)):
        got, decoded, _ = _collect(path, keyframes_only=False)
        mode = "full"
    secs = np.array(sorted(got), dtype=np.int32)
    hashes = phash_batch(np.stack([got[s] for s in secs])) if len(secs) else np.zeros(0, np.uint64)
    return Fingerprint(seconds=secs, hashes=hashes, mode=mode, frames_decoded=decoded)


def to_signed(v: int) -> int:
    """uint64 → int64 (PostgreSQL bigint)."""
    return v - (1 << 64) if v >= 1 << 63 else v


def to_unsigned(v: int) -> int:
    return v + (1 << 64) if v < 0 else v
