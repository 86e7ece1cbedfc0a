"""Tracking: linking across missed detections and covering the lead-in/lead-out."""

from __future__ import annotations

from liuhen.redaction.base import Detection
from liuhen.redaction.regions_core import active
from liuhen.redaction.track import Linker, iou, link, predict, settle_frames, tracks_to_regions


def det(x: int, y: int, s: int = 20) -> Detection:
    return Detection(x, y, s, s, 0.9)


def test_iou_known_answer() -> None:
    # 10×10 boxes offset by 5 in x: intersection 50, union 150
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == 50 / 150


def test_a_face_missed_for_a_few_samples_stays_one_track() -> None:
    samples = [(0, [det(0, 0)]), (3, [det(6, 0)]), (6, []), (9, []), (12, [det(24, 0)]), (15, [det(30, 0)])]
    tracks = link(samples, max_gap=3)
    assert len(tracks) == 1
    assert [f for f, _ in tracks[0].keys] == [0, 3, 12, 15]


def test_a_long_gap_starts_a_new_track_and_far_faces_do_not_merge() -> None:
    samples = [(0, [det(0, 0), det(300, 300)]), (3, [det(3, 0), det(303, 300)]),
               *[(f, []) for f in (6, 9, 12, 15)], (18, [det(18, 0)])]
    tracks = link(samples, max_gap=3)
    assert sorted(len(t.keys) for t in tracks) == [1, 2, 2]


def test_fast_face_without_overlap_links_by_centre_distance() -> None:
    tracks = link([(0, [det(0, 0)]), (3, [det(15, 0)])])  # moved 15 px < one face size (20)
    assert len(tracks) == 1


def test_extension_continues_velocity_and_clips_to_the_clip() -> None:
    tracks = link([(3, [det(10, 0)]), (6, [det(16, 0)])])
    [r] = tracks_to_regions(tracks, stride=3, hold=2, last_frame=9, method="blur", pad_pct=20)
    # velocity 2 px/frame; lead-in 5 frames back from 3 → frame 0 (clipped), x = 10 - 2*3 = 4;
    # lead-out 5 frames after 6 → 11, clipped to 9, x = 16 + 2*3 = 22
    assert r["keys"] == [[0, 4, 0, 20, 20], [3, 10, 0, 20, 20], [6, 16, 0, 20, 20], [9, 22, 0, 20, 20]]
    assert r["id"] == "face-0001" and r["unit"] == "frame" and r["pad_pct"] == 20


def test_a_face_missed_while_moving_links_on_its_predicted_position() -> None:
    # 20 px face at 1.8 px/frame, sampled every 10 frames, missed at frame 20: at frame 30 it is 36 px
    # (1.8 sizes) from its last box — too far to link unpredicted — but exactly where 18 + 1.8·20 = 54 puts it.
    samples = [(0, [det(0, 0)]), (10, [det(18, 0)]), (20, []), (30, [det(54, 0), det(200, 0)])]
    tracks = link(samples)
    assert [[f for f, _ in t.keys] for t in tracks] == [[0, 10, 30], [30]]
    assert predict(tracks[0], 40) == (72, 0, 20, 20)  # 54 + 1.8·(40 − 30), velocity from the keys at 10 and 30


def _rects(regions: list[dict], frame: int) -> list[tuple]:
    doc = {"media": {"kind": "video", "width": 640, "height": 360, "fps": [30, 1], "frames": 200},
           "regions": regions, "audio": []}
    return [(r["id"], rect) for r, rect in active(doc, frame)]


def test_regions_settle_once_enough_later_samples_are_linked() -> None:
    """What ``stream`` relies on: after samples up to frame P, frames ≤ P − settle_frames have their final
    regions — with faces appearing, moving, missed for a while and leaving, several born together."""
    stride, hold, gap = 5, 4, 3
    faces = [(0, 120, 10, 20, 2), (0, 80, 300, 20, -1), (35, 190, 100, 150, 3), (60, 120, 200, 40, 0),
             (60, 70, 400, 40, 2)]  # (first frame, last frame, x0, y, vx)
    samples = []
    for f in range(0, 200, stride):
        jitter = f * 7 % 5  # not quite linear motion: interpolating and extrapolating give different boxes
        dets = [det(x + vx * (f - a) + jitter, y) for a, b, x, y, vx in faces if a <= f <= b and not 90 <= f <= 100]
        samples.append((f, dets))
    kw = {"stride": stride, "hold": hold, "last_frame": 199, "method": "blur", "pad_pct": 0}
    final = tracks_to_regions(link(samples, max_gap=gap), **kw)
    settle = settle_frames(stride=stride, hold=hold, max_gap=gap)
    linker = Linker(max_gap=gap)
    for f, dets in samples:
        linker.feed(f, dets)
        partial = tracks_to_regions(linker.tracks(), **kw)
        for i in range(0, f - settle + 1):
            assert _rects(partial, i) == _rects(final, i), (f, i)
