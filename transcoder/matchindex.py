"""Multi-index hashing over the per-second 64-bit fingerprints: find a clip's originals without a full scan.

Pure core (numpy only). A *segment* holds many originals' fingerprints laid end to end: ``hashes[p]``
is the hash of second ``p - starts[i]`` of original ``i`` (``have[p]`` False where that second has no
hash). Each 64-bit hash is cut into four 16-bit chunks; for every chunk position ``c`` the segment keeps
the positions of all hashes sorted by that chunk's value (a counting sort: ``postings[c]`` with bucket
boundaries ``buckets[c]``).

Search, for a clip with hashes ``q[s]``:

1. *Probe.* For each clip second ``s`` and chunk ``c``, every position whose chunk equals ``q[s]``'s
   chunk (``radius`` 0), or differs from it in one bit (``radius`` 1), is a hit. By pigeonhole a
   second within Hamming distance 4·(radius+1)−1 of the clip's hits at least one chunk; at the
   distances re-encoded excerpts show (2–8 of 64 bits per second) most of a clip's seconds hit.
2. *Vote.* A hit at position ``p`` proposes "clip second 0 is second ``p - starts[i] - s`` of original
   ``i``". Proposals with at least ``min_votes`` hits are checked.
3. *Check.* The exact rule of the full scan (``transcoder.match``) at that one offset: overlap of seconds
   both have ≥ ``need`` = max(3, ⌊0.6·clip seconds⌋) and mean Hamming distance ≤ ``max_distance``.
4. *Answer.* Every original with a passing offset gets the full scan's own answer: the best offset over
   all offsets of that original (``exact_best``, same tie-break: smallest offset). So the index can only
   differ from the scan by *missing* an original (no probe hit at any passing offset), never by
   reporting a different offset or score; tests and ``benchmarks.county`` measure that recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

CHUNKS = 4
CHUNK_BITS = 16
BUCKETS = 1 << CHUNK_BITS
BLOCK = 1 << 22  # positions per block while building (bounds the temporary memory)
_OFF_BIAS = 1 << 33  # pair key = original index << 34 | (offset + bias)


@dataclass
class Segment:
    """Fingerprints of many originals plus their chunk postings. Arrays may be read-only memmaps."""

    file_ids: np.ndarray  # int64 (F,)
    starts: np.ndarray  # int64 (F + 1,): original i occupies positions [starts[i], starts[i + 1])
    hashes: np.ndarray  # uint64 (N,)
    have: np.ndarray  # bool (N,)
    buckets: np.ndarray  # int64 (CHUNKS, BUCKETS + 1): bucket v of chunk c is postings[c][b[c][v]:b[c][v+1]]
    postings: np.ndarray  # uint32 or int64 (CHUNKS, number of True in have)

    @property
    def seconds(self) -> int:
        return int(self.buckets[0, -1])


@dataclass(frozen=True)
class IndexHit:
    """The full scan's answer for one original: best offset, its mean distance and overlap."""

    file_id: int
    offset_s: int
    mean_distance: float
    overlap_s: int


def chunk(hashes: np.ndarray, c: int) -> np.ndarray:
    """16-bit chunk ``c`` (0 = the top bits) of each hash."""
    shift = np.uint64(64 - CHUNK_BITS * (c + 1))
    return ((hashes >> shift) & np.uint64(BUCKETS - 1)).astype(np.uint16)


def dense(seconds: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash per second from 0 to the last, has-a-hash mask), as ``transcoder.match`` lays them out."""
    secs = np.asarray(seconds, dtype=np.int64)
    n = int(secs.max()) + 1 if len(secs) else 0
    out = np.zeros(n, dtype=np.uint64)
    have = np.zeros(n, dtype=bool)
    out[secs] = np.asarray(hashes, dtype=np.uint64)
    have[secs] = True
    return out, have


def lay_out(per_file: list[tuple[int, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """[(file_id, seconds, hashes)] → (file_ids, starts, hashes, have) end to end, in the given order."""
    ids = np.array([f for f, _, _ in per_file], dtype=np.int64)
    parts = [dense(s, h) for _, s, h in per_file]
    lens = np.array([len(p[0]) for p in parts], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    hs = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.uint64)
    have = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, bool)
    return ids, starts, hs, have


def build(
    file_ids: np.ndarray,
    starts: np.ndarray,
    hashes: np.ndarray,
    have: np.ndarray,
    postings_out: np.ndarray | None = None,
) -> Segment:
    """Chunk postings by counting sort, block by block (``postings_out``: e.g. a writable memmap)."""
    n = len(hashes)
    if len(have) != n or int(starts[-1]) != n or len(starts) != len(file_ids) + 1:
        raise ValueError(f"inconsistent segment: {len(file_ids)} originals, starts end {starts[-1]}, {n} seconds")
    buckets = np.zeros((CHUNKS, BUCKETS + 1), dtype=np.int64)
    for lo in range(0, n, BLOCK):
        h = hashes[lo : lo + BLOCK][have[lo : lo + BLOCK]]
        for c in range(CHUNKS):
            buckets[c, 1:] += np.bincount(chunk(h, c), minlength=BUCKETS)
    np.cumsum(buckets, axis=1, out=buckets)
    total = int(buckets[0, -1])
    dtype = np.uint32 if n < (1 << 32) else np.int64
    post = postings_out if postings_out is not None else np.empty((CHUNKS, total), dtype=dtype)
    fill = buckets[:, :-1].copy()
    for lo in range(0, n, BLOCK):
        m = have[lo : lo + BLOCK]
        pos = np.flatnonzero(m).astype(np.int64) + lo
        h = hashes[lo : lo + BLOCK][m]
        for c in range(CHUNKS):
            v = chunk(h, c)
            order = np.argsort(v, kind="stable")  # radix sort for 16-bit keys
            sv = v[order]
            cnt = np.bincount(sv, minlength=BUCKETS)
            first = np.cumsum(cnt) - cnt
            dest = fill[c][sv] + (np.arange(len(sv)) - first[sv])
            post[c, dest] = pos[order]
            fill[c] += cnt
    return Segment(file_ids, starts, hashes, have, buckets, post)


def build_from(per_file: list[tuple[int, np.ndarray, np.ndarray]]) -> Segment:
    return build(*lay_out(per_file))


def _probe_values(v: np.ndarray, radius: int) -> np.ndarray:
    """Each chunk value, and with radius 1 also its 16 one-bit neighbours: shape (len(v), 1 or 17)."""
    if radius <= 0:
        return v.astype(np.int64)[:, None]
    flips = np.concatenate([[0], 1 << np.arange(CHUNK_BITS)]).astype(np.int64)
    return v.astype(np.int64)[:, None] ^ flips[None, :]


def _hits(seg: Segment, q: np.ndarray, qh: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(position, clip second) of every probe hit."""
    secs = np.flatnonzero(qh)
    pos_parts, sec_parts = [], []
    for c in range(CHUNKS):
        vals = _probe_values(chunk(q[secs], c), radius)  # (S, P)
        lo = seg.buckets[c][vals].ravel()
        hi = seg.buckets[c][vals + 1].ravel()
        n = hi - lo
        total = int(n.sum())
        if not total:
            continue
        before = np.cumsum(n) - n
        idx = np.repeat(lo - before, n) + np.arange(total)
        pos_parts.append(np.asarray(seg.postings[c][idx], dtype=np.int64))
        sec_parts.append(np.repeat(np.repeat(secs, vals.shape[1]), n))
    if not pos_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(pos_parts), np.concatenate(sec_parts)


def _distances(
    seg: Segment, q: np.ndarray, qh: np.ndarray, orig: np.ndarray, offs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(overlap, mean distance) of the clip placed at ``offs[k]`` in original index ``orig[k]``.

    Reads each candidate's m consecutive hashes as one row of a sliding-window view (one gather of K
    contiguous rows; 11x faster than a K×m fancy index on 10^5 hours). Rows that would run past either
    end of the whole segment (only possible in its first or last original) take the general path.
    """
    m, n = len(q), len(seg.hashes)
    if n < m:
        return _distances_general(seg, q, qh, orig, offs)
    base = seg.starts[orig] + offs
    lo = np.clip(base, 0, n - m)
    hashes = sliding_window_view(np.asarray(seg.hashes), m)[lo]
    have = sliding_window_view(np.asarray(seg.have), m)[lo]
    t = offs[:, None] + np.arange(m)[None, :]
    length = (seg.starts[orig + 1] - seg.starts[orig])[:, None]
    both = (t >= 0) & (t < length) & qh[None, :] & have
    d = np.bitwise_count(hashes ^ q[None, :])
    k = both.sum(axis=1)
    tot = np.where(both, d, 0).sum(axis=1, dtype=np.int64)
    mean = np.divide(tot, k, out=np.full(len(k), np.inf), where=k > 0)
    edge = np.flatnonzero(lo != base)
    if len(edge):
        k[edge], mean[edge] = _distances_general(seg, q, qh, orig[edge], offs[edge])
    return k, mean


def _distances_general(
    seg: Segment, q: np.ndarray, qh: np.ndarray, orig: np.ndarray, offs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    m = len(q)
    t = offs[:, None] + np.arange(m)[None, :]
    length = (seg.starts[orig + 1] - seg.starts[orig])[:, None]
    inside = (t >= 0) & (t < length) & qh[None, :]
    p = np.where(inside, seg.starts[orig][:, None] + t, 0)
    both = inside & np.asarray(seg.have[p])
    d = np.bitwise_count(np.asarray(seg.hashes[p]) ^ q[None, :]).astype(np.int64)
    k = both.sum(axis=1)
    tot = np.where(both, d, 0).sum(axis=1)
    mean = np.divide(tot, k, out=np.full(len(k), np.inf), where=k > 0)
    return k, mean


def need_for(qh: np.ndarray) -> int:
    """Seconds of overlap an alignment needs (as in ``transcoder.match.best_offset``)."""
    return max(3, int(0.6 * int(qh.sum())))


def exact_best(q: np.ndarray, qh: np.ndarray, c: np.ndarray, ch: np.ndarray) -> tuple[int, float, int] | None:
    """(offset, mean distance, overlap) of the best alignment of dense clip ``q`` in dense original ``c``.

    The same rule and tie-break as ``transcoder.match.best_offset`` (first offset with the least mean
    distance), vectorised over all offsets.
    """
    m, n = len(q), len(c)
    if not m or not n:
        return None
    need = need_for(qh)
    offs = np.arange(-m + need, n - need + 1, dtype=np.int64)
    if not len(offs):
        return None
    t = offs[:, None] + np.arange(m)[None, :]
    inside = (t >= 0) & (t < n) & qh[None, :]
    p = np.where(inside, t, 0)
    both = inside & ch[p]
    d = np.where(both, np.bitwise_count(c[p] ^ q[None, :]), 0).astype(np.int64)
    k = both.sum(axis=1)
    ok = k >= need
    if not ok.any():
        return None
    mean = np.full(len(offs), np.inf)
    mean[ok] = d[ok].sum(axis=1) / k[ok]
    i = int(np.argmin(mean))
    return int(offs[i]), float(mean[i]), int(k[i])


def search(
    seg: Segment,
    seconds: np.ndarray,
    hashes: np.ndarray,
    *,
    max_distance: float,
    radius: int = 0,
    min_votes: int = 1,
) -> list[IndexHit]:
    """Originals in ``seg`` the clip matches (the full scan's answer for each), in segment order."""
    q, qh = dense(seconds, hashes)
    if not qh.any() or not len(seg.file_ids):
        return []
    pos, sec = _hits(seg, q, qh, radius)
    if not len(pos):
        return []
    orig = np.searchsorted(seg.starts, pos, side="right") - 1
    offs = pos - seg.starts[orig] - sec
    keys, votes = np.unique((orig << 34) | (offs + _OFF_BIAS), return_counts=True)
    keys = keys[votes >= min_votes]
    orig, offs = keys >> 34, (keys & ((1 << 34) - 1)) - _OFF_BIAS
    k, mean = _distances(seg, q, qh, orig, offs)
    passing = np.unique(orig[(k >= need_for(qh)) & (mean <= max_distance)])
    out = []
    for i in passing.tolist():
        a, b = int(seg.starts[i]), int(seg.starts[i + 1])
        best = exact_best(q, qh, np.asarray(seg.hashes[a:b]), np.asarray(seg.have[a:b]))
        if best is not None and best[1] <= max_distance:
            out.append(IndexHit(int(seg.file_ids[i]), best[0], best[1], best[2]))
    return out
