"""Match index (multi-index hashing): the same answers as the full scan of ``transcoder.match``.

Expected values come from ``transcoder.match.best_offset`` — the full scan production uses today — run
on the same inputs; the index may only ever differ by missing an original, and on these sets it must not.
"""

from __future__ import annotations

import numpy as np
import pytest

from liuhen.transcoder.fingerprint import Fingerprint
from liuhen.transcoder.match import DEFAULT_MAX_DISTANCE, best_offset
from liuhen.transcoder.matchindex import build, build_from, chunk, dense, exact_best, lay_out, search


def _fp(secs: np.ndarray, hashes: np.ndarray) -> Fingerprint:
    return Fingerprint(np.asarray(secs, dtype=np.int32), np.asarray(hashes, dtype=np.uint64), "full", len(secs))


def _random_archive(rng: np.random.Generator, n_files: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    out = []
    for f in range(n_files):
        n = int(rng.integers(15, 300))
        base = rng.integers(0, 2**63, n // 10 + 1, dtype=np.int64).view(np.uint64) << np.uint64(1)
        h = base[np.arange(n) // 10] ^ (np.uint64(1) << rng.integers(0, 64, n).astype(np.uint64))
        keep = rng.random(n) > 0.03
        out.append((500 + f, np.arange(n)[keep], h[keep]))
    return out


def _noisy(h: np.ndarray, rng: np.random.Generator, max_bits: int) -> np.ndarray:
    h = h.copy()
    for s in range(len(h)):
        for b in rng.choice(64, int(rng.integers(0, max_bits + 1)), replace=False):
            h[s] ^= np.uint64(1) << np.uint64(b)
    return h


def _scan(archive: list[tuple[int, np.ndarray, np.ndarray]], secs: np.ndarray, h: np.ndarray) -> dict[int, tuple]:
    """What transcoder.match.match_fingerprint reports, before rounding: {file_id: (off, dist, overlap)}."""
    out = {}
    for fid, s, hs in archive:
        got = best_offset(_fp(secs, h), s, hs)
        if got is not None and got[1] <= DEFAULT_MAX_DISTANCE:
            out[fid] = got
    return out


def test_chunks_cut_the_hash_top_first() -> None:
    # 0x0123_4567_89AB_CDEF: chunk 0 is the top 16 bits
    h = np.array([0x0123_4567_89AB_CDEF], dtype=np.uint64)
    assert [int(chunk(h, c)[0]) for c in range(4)] == [0x0123, 0x4567, 0x89AB, 0xCDEF]


def test_postings_list_every_position_under_its_chunk_value() -> None:
    rng = np.random.default_rng(3)
    seg = build_from(_random_archive(rng, 20))
    have = np.flatnonzero(seg.have)
    for c in range(4):
        vals = chunk(np.asarray(seg.hashes), c)
        assert sorted(seg.postings[c].tolist()) == have.tolist()
        for v in {int(x) for x in vals[have][:50]}:
            bucket = seg.postings[c][seg.buckets[c][v] : seg.buckets[c][v + 1]]
            assert set(bucket.tolist()) == set(have[vals[have] == v].tolist())
            assert bucket.tolist() == sorted(bucket.tolist())  # stable: positions ascending in a bucket


def test_exact_best_equals_the_full_scan_rule_on_random_inputs() -> None:
    """Small alphabets force ties and partial overlaps; best_offset is the reference."""
    rng = np.random.default_rng(7)
    for _ in range(400):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 15))
        c = rng.integers(0, 4, n).astype(np.uint64)
        q = rng.integers(0, 4, m).astype(np.uint64)
        cs, qs = np.flatnonzero(rng.random(n) > 0.2), np.flatnonzero(rng.random(m) > 0.2)
        expected = best_offset(_fp(qs, q[qs]), cs, c[cs])
        assert exact_best(*dense(qs, q[qs]), *dense(cs, c[cs])) == expected


@pytest.mark.parametrize("radius", [0, 1])
def test_index_answers_equal_the_full_scan(radius: int) -> None:
    """120 clips (excerpts with 0-8 flipped bits per second, clips hanging over an end, unrelated clips)."""
    rng = np.random.default_rng(11)
    archive = _random_archive(rng, 60)
    seg = build_from(archive)
    differ, found = [], 0
    for k in range(120):
        _, s, hs = archive[int(rng.integers(0, len(archive)))]
        d, _ = dense(s, hs)
        if k % 5 == 4:
            h = rng.integers(0, 2**63, 10, dtype=np.int64).view(np.uint64)
        else:
            off = int(rng.integers(-3, len(d) - 7))  # some clips start before / end after the original
            idx = np.arange(off, off + 10)
            h = _noisy(np.where((idx >= 0) & (idx < len(d)), d[np.clip(idx, 0, len(d) - 1)], 0), rng, 8)
        secs = np.arange(10)
        truth = _scan(archive, secs, h)
        got = {x.file_id: (x.offset_s, x.mean_distance, x.overlap_s) for x in search(
            seg, secs, h, max_distance=DEFAULT_MAX_DISTANCE, radius=radius)}
        found += len(truth)
        if got != truth:
            differ.append((k, truth, got))
    assert found > 60, "the test set must contain matches"
    assert not differ, differ[:3]


def test_unrelated_clip_finds_nothing_and_empty_inputs_are_fine() -> None:
    rng = np.random.default_rng(5)
    seg = build_from(_random_archive(rng, 30))
    h = rng.integers(0, 2**63, 10, dtype=np.int64).view(np.uint64)
    assert search(seg, np.arange(10), h, max_distance=DEFAULT_MAX_DISTANCE) == []
    assert search(seg, np.zeros(0, np.int64), np.zeros(0, np.uint64), max_distance=10) == []
    empty = build(*lay_out([]))
    assert search(empty, np.arange(10), h, max_distance=10) == []


def test_inconsistent_layout_is_refused() -> None:
    ids, starts, hs, have = lay_out([(1, np.arange(5), np.arange(5, dtype=np.uint64))])
    with pytest.raises(ValueError, match="inconsistent segment"):
        build(ids, starts[:-1], hs, have)


def test_clips_hanging_over_the_ends_of_the_whole_segment_match_like_the_scan() -> None:
    """Candidates in the first and last original whose window runs past the segment's ends (general path)."""
    rng = np.random.default_rng(21)
    archive = _random_archive(rng, 5)
    seg = build_from(archive)
    first, last = dense(archive[0][1], archive[0][2])[0], dense(archive[-1][1], archive[-1][2])[0]
    head = np.concatenate([rng.integers(0, 2**63, 3, dtype=np.int64).view(np.uint64), first[:7]])  # starts at -3
    tail = np.concatenate([last[-6:], rng.integers(0, 2**63, 4, dtype=np.int64).view(np.uint64)])  # ends +4 past
    for h in (head, tail):
        secs = np.arange(10)
        got = {x.file_id: (x.offset_s, x.mean_distance, x.overlap_s)
               for x in search(seg, secs, h, max_distance=DEFAULT_MAX_DISTANCE)}
        assert got and got == _scan(archive, secs, h)
