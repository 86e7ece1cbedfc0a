"""Match index at archive scale: seeded per-second fingerprints for N hours, 10 s clips, index vs full scan.

    python -m benchmarks.county_match [--hours 100000] [--queries 200] [--scan-queries 20] [--radius 0]

The archive (cached under ``$TMPDIR/liuhen-bench-county/``, memory-mapped; ~8.7 GB at 10^5 hours):
originals of 5–60 min, hashes that behave like a recorder's — scenes of 3–60 s, within a scene the
scene's random 64-bit hash with 0–2 bits flipped per second, 1 % of seconds without a hash. Clips:
3/4 are 10 s excerpts of random originals at random offsets with 0–8 bits flipped per second (re-encoded
copies measured 2–4 bits mean, see docs/transcoder.md), 1/4 unrelated random hashes.
Recall vs the full scan: on ``--scan-queries`` clips the full scan is run too (every position, every
clip second: an alignment with mean distance ≤ d has a second with distance ≤ d, so proposing every
position within d of some clip second and checking it is the scan's exact answer); recall = originals
found by both / originals found by the scan, and the answers (offset, distance, overlap) must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from liuhen.transcoder.matchindex import BLOCK, CHUNKS, Segment, _distances, build, dense, exact_best, need_for, search
from liuhen.transcoder.matchindex_store import ARRAYS, load

MAX_DISTANCE = 10.0
CLIP_S = 10


def _cache_dir(hours: int, seed: int) -> Path:
    base = Path(os.environ.get("LIUHEN_BENCH_CACHE", Path(tempfile.gettempdir()) / "liuhen-bench-county"))
    return base / f"match-{hours}h-seed{seed}"


def _lengths(total: int, rng: np.random.Generator) -> np.ndarray:
    lens = rng.integers(300, 3600, size=total // 300 + 2)
    cut = int(np.searchsorted(np.cumsum(lens), total))
    lens = lens[: cut + 1].copy()
    lens[-1] -= int(lens.sum()) - total
    return lens[lens > 0].astype(np.int64)


def _fill_hashes(hashes: np.ndarray, have: np.ndarray, rng: np.random.Generator) -> None:
    n = len(hashes)
    one = np.uint64(1)
    for lo in range(0, n, BLOCK):
        k = min(BLOCK, n - lo)
        new_scene = rng.random(k) < 1 / 20
        new_scene[0] = True
        scene = np.cumsum(new_scene) - 1
        base = rng.integers(0, 2**63, int(scene[-1]) + 1, dtype=np.int64).view(np.uint64) << one
        base ^= rng.integers(0, 2, int(scene[-1]) + 1).astype(np.uint64)
        h = base[scene]
        for _ in range(2):
            flip = rng.random(k) < 0.5
            h ^= np.where(flip, one << rng.integers(0, 64, k).astype(np.uint64), np.uint64(0))
        hashes[lo : lo + k] = h
        have[lo : lo + k] = rng.random(k) >= 0.01


def cached(hours: int, seed: int = 1) -> bool:
    """Whether the seeded archive of ``hours`` is already built (building 10^5 hours takes minutes)."""
    return (_cache_dir(hours, seed) / "done").exists()


def archive(hours: int, seed: int = 1) -> Segment:
    """The seeded archive as a memory-mapped segment (built once, then cached)."""
    d = _cache_dir(hours, seed)
    if (d / "done").exists():
        return load(d)
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    total = hours * 3600
    lens = _lengths(total, rng)
    starts = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    mm = np.lib.format.open_memmap
    hashes = mm(d / "hashes.npy", mode="w+", dtype=np.uint64, shape=(total,))
    have = mm(d / "have.npy", mode="w+", dtype=np.bool_, shape=(total,))
    _fill_hashes(hashes, have, rng)
    n_have = int(have.sum())
    post = mm(d / "postings.npy", mode="w+", dtype=np.uint32, shape=(CHUNKS, n_have))
    ids = np.arange(1, len(lens) + 1, dtype=np.int64)
    seg = build(ids, starts, hashes, have, postings_out=post)
    for name in ARRAYS:
        if name in ("file_ids", "starts", "buckets"):
            np.save(d / f"{name}.npy", getattr(seg, name))
    np.save(d / "digests.npy", np.array([b""] * len(ids), dtype="S64"))
    post.flush()
    hashes.flush()
    have.flush()
    (d / "done").write_text("ok")
    return load(d)


def clips(seg: Segment, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, int | None]]:
    """(seconds, hashes, planted file id or None) for n clips."""
    out: list[tuple[np.ndarray, np.ndarray, int | None]] = []
    secs = np.arange(CLIP_S)
    for k in range(n):
        if k % 4 == 3:
            out.append((secs, rng.integers(0, 2**63, CLIP_S, dtype=np.int64).view(np.uint64) << np.uint64(1), None))
            continue
        while True:
            i = int(rng.integers(0, len(seg.file_ids)))
            a, b = int(seg.starts[i]), int(seg.starts[i + 1])
            if b - a > CLIP_S:
                break
        off = int(rng.integers(0, b - a - CLIP_S))
        h = np.asarray(seg.hashes[a + off : a + off + CLIP_S]).copy()
        for s in range(CLIP_S):
            for bit in rng.choice(64, int(rng.integers(0, 9)), replace=False):
                h[s] ^= np.uint64(1) << np.uint64(bit)
        out.append((secs, h, int(seg.file_ids[i])))
    return out


def full_scan(seg: Segment, seconds: np.ndarray, hashes: np.ndarray) -> dict[int, tuple[int, float, int]]:
    """The scan's answer {file_id: (offset, mean distance, overlap)} over every position of the archive."""
    q, qh = dense(seconds, hashes)
    props: list[tuple[np.ndarray, np.ndarray]] = []
    n = len(seg.hashes)
    for lo in range(0, n, BLOCK):
        h = np.asarray(seg.hashes[lo : lo + BLOCK])
        hv = np.asarray(seg.have[lo : lo + BLOCK])
        for s in np.flatnonzero(qh).tolist():
            p = np.flatnonzero(hv & (np.bitwise_count(h ^ q[s]) <= MAX_DISTANCE)) + lo
            props.append((p, np.full(len(p), s)))
    pos = np.concatenate([p for p, _ in props])
    sec = np.concatenate([s for _, s in props])
    orig = np.searchsorted(seg.starts, pos, side="right") - 1
    offs = pos - seg.starts[orig] - sec
    pairs = np.unique(np.stack([orig, offs], axis=1), axis=0) if len(pos) else np.zeros((0, 2), np.int64)
    k, mean = _distances(seg, q, qh, pairs[:, 0], pairs[:, 1])
    out = {}
    for i in np.unique(pairs[(k >= need_for(qh)) & (mean <= MAX_DISTANCE), 0]).tolist():
        a, b = int(seg.starts[i]), int(seg.starts[i + 1])
        best = exact_best(q, qh, np.asarray(seg.hashes[a:b]), np.asarray(seg.have[a:b]))
        if best is not None and best[1] <= MAX_DISTANCE:
            out[int(seg.file_ids[i])] = best
    return out


def run(hours: int, queries: int, scan_queries: int, radius: int, seed: int = 1) -> dict[str, Any]:
    t0 = time.perf_counter()
    seg = archive(hours, seed)
    built_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1)
    qs = clips(seg, queries, rng)
    search(seg, qs[0][0], qs[0][1], max_distance=MAX_DISTANCE, radius=radius)  # warm the page cache a little
    lat, planted_found, planted = [], 0, 0
    answers = []
    for secs, h, fid in qs:
        t = time.perf_counter()
        got = search(seg, secs, h, max_distance=MAX_DISTANCE, radius=radius)
        lat.append(time.perf_counter() - t)
        answers.append({g.file_id: (g.offset_s, g.mean_distance, g.overlap_s) for g in got})
        if fid is not None:
            planted += 1
            planted_found += fid in answers[-1]
    both = scan_total = 0
    same = True
    for (secs, h, _), ans in list(zip(qs, answers, strict=True))[:scan_queries]:
        truth = full_scan(seg, secs, h)
        scan_total += len(truth)
        both += sum(1 for f in truth if f in ans)
        same = same and truth == ans
    lat.sort()
    return {
        "match_hours": hours,
        "match_seconds_indexed": seg.seconds,
        "match_originals": len(seg.file_ids),
        "match_build_or_load_s": round(built_s, 1),
        "match_queries": len(qs),
        "match_p50_ms": round(1000 * statistics.median(lat), 1),
        "match_p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1),
        "match_planted_found": f"{planted_found}/{planted}",
        "match_scan_queries": min(scan_queries, len(qs)),
        "match_recall_vs_scan": round(both / scan_total, 4) if scan_total else None,
        "match_same_answers": same,
        "match_radius": radius,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--hours", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--scan-queries", type=int, default=20)
    ap.add_argument("--radius", type=int, default=0, choices=(0, 1))
    a = ap.parse_args(argv)
    print(json.dumps(run(a.hours, a.queries, a.scan_queries, a.radius)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
