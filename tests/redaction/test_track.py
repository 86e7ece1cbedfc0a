"""Tracking: linking across missed detections and covering the lead-in/lead-out."""

from __future__ import annotations

from liuhen.redaction.base import Detection
from liuhen.redaction.track import iou, link, tracks_to_regions


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
