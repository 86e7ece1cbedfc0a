"""Perceptual match: a 10 s excerpt re-encoded at 480p finds its original and the offset (±1 s)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from liuhen.core.media import ffmpeg_exe, make_video
from liuhen.transcoder.fingerprint import phash
from liuhen.transcoder.match import match_file
from liuhen.transcoder.service import process_file


@pytest.fixture(scope="module")
def footage(tmp_path_factory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("match")
    orig = make_video(d / "orig.mp4", seconds=30, width=640, height=360, bitrate="600k", seed=5)
    other = make_video(d / "other.mp4", seconds=12, width=640, height=360, bitrate="600k", seed=6)
    excerpt = d / "excerpt_480p.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-ss",
            "12",
            "-i",
            str(orig),
            "-t",
            "10",
            "-vf",
            "scale=854:480",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-c:a",
            "aac",
            str(excerpt),
        ],
        check=True,
        capture_output=True,
    )
    return {"orig": orig, "other": other, "excerpt": excerpt}


def test_excerpt_480p_matches_original_at_offset(runtime, footage, add):
    o = add(footage["orig"])
    x = add(footage["other"])
    for fid in (o, x):
        assert process_file(runtime, fid).status == "ok"
    matches = match_file(runtime, footage["excerpt"])
    assert matches, "no match for the excerpt"
    best = matches[0]
    assert best.file_id == o and abs(best.offset_s - 12) <= 1 and best.score > 0.6
    assert all(m.file_id != x for m in matches)  # the unrelated clip does not match
    # the other clip as a query finds itself at 0, not the 30 s original
    self_match = match_file(runtime, footage["other"])
    assert self_match[0].file_id == x and self_match[0].offset_s == 0 and self_match[0].score > 0.95


def test_phash_properties():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (32, 32)).astype(np.uint8)
    h = phash(img)
    assert 0 <= h < 2**64
    assert phash(np.clip(img.astype(int) + 3, 0, 255).astype(np.uint8)) == h  # brightness shift
    other = phash(rng.integers(0, 255, (32, 32)).astype(np.uint8))
    assert bin(h ^ other).count("1") > 16
