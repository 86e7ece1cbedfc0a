"""Tracking: link detections on sampled frames into face tracks that also cover the frames in between.

Offline and deterministic (the whole clip is known before rendering): detections on every
``stride``-th frame are linked greedily by overlap; a track survives up to ``max_gap`` sampled frames
without a detection (the detector missed the face — turned head, motion blur, partly out of view) and
the box moves linearly across the gap. Each track is extended ``stride + hold`` frames before its first
and after its last detection, continuing its last velocity (a face walking out of view stays covered
while it leaves). The result is a list of key boxes per track; ``regions_core.box_at`` interpolates
between keys exactly as the renderer and the verifier do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from liuhen.redaction.base import Detection

Box = tuple[int, int, int, int]


@dataclass
class Track:
    keys: list[tuple[int, Box]] = field(default_factory=list)  # (frame, box) of each detection
    misses: int = 0


def iou(a: Box, b: Box) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _near(a: Box, b: Box) -> float:
    """Link score: IoU, or — for fast faces that no longer overlap — closeness of centres (≤ 1 size)."""
    o = iou(a, b)
    if o > 0:
        return 1.0 + o
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    size = max(a[2], a[3], b[2], b[3])
    dist = (dx * dx + dy * dy) ** 0.5 / size
    return 1.0 - dist if dist < 1.0 else 0.0


def predict(track: Track, frame: int) -> Box:
    """Where the track's box should be at ``frame``: its last box moved on at its last velocity (so
    faces that move more than their own size between sampled frames still link)."""
    f1, b1 = track.keys[-1]
    if len(track.keys) < 2:
        return b1
    f0, b0 = track.keys[-2]
    return _shift(b1, (b1[0] - b0[0]) / (f1 - f0), (b1[1] - b0[1]) / (f1 - f0), frame - f1)


class Linker:
    """Incremental form of ``link``: feed sampled frames in order; ``tracks()`` at any point.

    Linking is causal (a sample's assignment never depends on later samples), and tracks are ordered
    by (first frame, first box) — fixed at birth — so the tracks after any prefix of the samples are a
    prefix of the final list: what lets ``stream`` render early frames before the clip is fully seen.
    """

    def __init__(self, *, max_gap: int = 3) -> None:
        self.max_gap = max_gap
        self.live: list[Track] = []
        self.done: list[Track] = []
        self.last_frame = -1

    def feed(self, frame: int, dets: list[Detection]) -> None:
        if frame <= self.last_frame:
            raise ValueError(f"samples must be fed in frame order ({frame} after {self.last_frame})")
        self.last_frame = frame
        live = self.live
        pairs = sorted(
            ((_near(predict(t, frame), d.box), ti, di) for ti, t in enumerate(live) for di, d in enumerate(dets)),
            reverse=True,
        )
        used_t: set[int] = set()
        used_d: set[int] = set()
        for score, ti, di in pairs:
            if score <= 0 or ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            live[ti].keys.append((frame, dets[di].box))
            live[ti].misses = 0
        still: list[Track] = []
        for ti, t in enumerate(live):
            if ti not in used_t:
                t.misses += 1
            (self.done if t.misses > self.max_gap else still).append(t)
        self.live = still + [Track(keys=[(frame, d.box)]) for di, d in enumerate(dets) if di not in used_d]

    def tracks(self) -> list[Track]:
        return sorted(self.done + self.live, key=lambda t: (t.keys[0][0], t.keys[0][1]))


def link(samples: list[tuple[int, list[Detection]]], *, max_gap: int = 3) -> list[Track]:
    """Greedy best-first linking of per-sample detections into tracks (``samples`` sorted by frame)."""
    linker = Linker(max_gap=max_gap)
    for frame, dets in samples:
        linker.feed(frame, dets)
    return linker.tracks()


def settle_frames(*, stride: int, hold: int, max_gap: int) -> int:
    """After samples up to frame P are linked, the regions of every frame ≤ P − this no longer change.

    A frame i's boxes come from detection keys ≤ i (final), the next key of each track (known, or the
    track has ended, once (max_gap + 1)·stride frames passed without one), and lead-in keys of tracks
    born within stride + hold frames after i, whose velocity needs their second key or their end.
    """
    return (stride + hold) + (max_gap + 1) * stride + stride


def _shift(box: Box, vx: float, vy: float, frames: int) -> Box:
    return (round(box[0] + vx * frames), round(box[1] + vy * frames), box[2], box[3])


def extend(track: Track, *, stride: int, hold: int, last_frame: int) -> list[list[int]]:
    """Key list ``[[frame, x, y, w, h], ...]`` with the lead-in/lead-out extension (velocity continued)."""
    keys = track.keys
    ext = stride + hold
    vx0 = vy0 = vx1 = vy1 = 0.0
    if len(keys) >= 2:
        (f0, b0), (f1, b1) = keys[0], keys[1]
        vx0, vy0 = (b1[0] - b0[0]) / (f1 - f0), (b1[1] - b0[1]) / (f1 - f0)
        (f0, b0), (f1, b1) = keys[-2], keys[-1]
        vx1, vy1 = (b1[0] - b0[0]) / (f1 - f0), (b1[1] - b0[1]) / (f1 - f0)
    first_f, first_b = keys[0]
    last_f, last_b = keys[-1]
    out: list[list[int]] = []
    start = max(0, first_f - ext)
    if start < first_f:
        out.append([start, *_shift(first_b, vx0, vy0, start - first_f)])
    out.extend([f, *b] for f, b in keys)
    end = min(last_frame, last_f + ext)
    if end > last_f:
        out.append([end, *_shift(last_b, vx1, vy1, end - last_f)])
    return out


def tracks_to_regions(
    tracks: list[Track], *, stride: int, hold: int, last_frame: int, method: str, pad_pct: int
) -> list[dict[str, object]]:
    """Region entries (``kind: face``, ``unit: frame``) for the region document, ids face-0001…"""
    return [
        {"id": f"face-{n:04d}", "kind": "face", "mode": "hide", "method": method, "unit": "frame",
         "pad_pct": pad_pct, "keys": extend(t, stride=stride, hold=hold, last_frame=last_frame)}
        for n, t in enumerate(tracks, start=1)
    ]
