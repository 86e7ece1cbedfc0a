"""Find originals containing a clip: slide the clip's per-second hashes over each original's.

Score at an offset = 1 − mean Hamming distance / 32 over the overlapping seconds (1 = identical,
≈0 = unrelated frames; two random 64-bit hashes differ in 32 bits on average). An offset counts when
the overlap covers ≥ 60 % of the clip (at least 3 s) and the mean distance is ≤ ``max_distance``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liuhen.runtime import Runtime
from liuhen.transcoder import matchindex_store
from liuhen.transcoder.fingerprint import Fingerprint, fingerprint

DEFAULT_MAX_DISTANCE = 10.0


@dataclass
class Match:
    file_id: int
    sha256: str
    offset_s: int  # clip second 0 is this second of the original
    score: float
    mean_distance: float
    overlap_s: int
    original_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _dense(seconds: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = int(seconds.max()) + 1 if len(seconds) else 0
    dense = np.zeros(n, dtype=np.uint64)
    have = np.zeros(n, dtype=bool)
    dense[seconds] = hashes
    have[seconds] = True
    return dense, have


def best_offset(query: Fingerprint, seconds: np.ndarray, hashes: np.ndarray) -> tuple[int, float, int] | None:
    """(offset, mean distance, overlap) of the best alignment of ``query`` inside a candidate."""
    q, qh = _dense(query.seconds, query.hashes)
    c, ch = _dense(seconds, hashes)
    m, n = len(q), len(c)
    if not m or not n:
        return None
    need = max(3, int(0.6 * int(qh.sum())))
    best: tuple[int, float, int] | None = None
    for off in range(-m + need, n - need + 1):
        lo, hi = max(0, -off), min(m, n - off)
        if hi - lo < need:
            continue
        both = qh[lo:hi] & ch[lo + off : hi + off]
        k = int(both.sum())
        if k < need:
            continue
        dist = np.bitwise_count(q[lo:hi][both] ^ c[lo + off : hi + off][both]).mean()
        if best is None or dist < best[1]:
            best = (off, float(dist), k)
    return best


def index_dir(runtime: Runtime) -> Path:
    """Where the match index lives (``liuhen match --build-index`` makes it; then every match uses it)."""
    return Path(runtime.settings.data_dir) / "matchindex"


def build_index(runtime: Runtime) -> int:
    """Build the match index from every fingerprint in the catalog; return the seconds indexed."""
    with matchindex_store.locked(index_dir(runtime)):
        return matchindex_store.rebuild(index_dir(runtime), runtime.catalog).seconds


def _indexed(runtime: Runtime, query: Fingerprint, max_distance: float) -> list[Match] | None:
    """Matches through the index (refreshed with originals fingerprinted since), or None if none is built."""
    root = index_dir(runtime)
    if not (root / "manifest.json").exists():
        return None
    with matchindex_store.locked(root):
        ix = matchindex_store.MatchIndex.open(root)
        matchindex_store.refresh(ix, runtime.catalog)
    hits = ix.search(query.seconds, query.hashes, max_distance=max_distance)
    if not hits:
        return []
    rows = runtime.catalog.all(
        "SELECT id, sha256, original_name FROM files WHERE id = ANY(%s)", ([h.file_id for h in hits],)
    )
    meta = {int(r["id"]): r for r in rows}
    return [
        Match(
            h.file_id,
            meta[h.file_id]["sha256"],
            h.offset_s,
            round(1 - h.mean_distance / 32, 4),
            round(h.mean_distance, 3),
            h.overlap_s,
            meta[h.file_id]["original_name"],
        )
        for h in hits
        if h.file_id in meta
    ]


def match_fingerprint(
    runtime: Runtime, query: Fingerprint, *, max_distance: float = DEFAULT_MAX_DISTANCE, limit: int = 10
) -> list[Match]:
    """Originals containing ``query``: through the match index when one is built, else a full scan."""
    got = _indexed(runtime, query, max_distance)
    if got is None:
        got = scan_fingerprint(runtime, query, max_distance=max_distance)
    got.sort(key=lambda m: (-m.score, m.file_id))
    return got[:limit]


def scan_fingerprint(
    runtime: Runtime, query: Fingerprint, *, max_distance: float = DEFAULT_MAX_DISTANCE
) -> list[Match]:
    """Every original's best alignment with ``query`` (within ``max_distance``), by scanning all fingerprints."""
    rows = runtime.catalog.all(
        "SELECT f.file_id, fi.sha256, fi.original_name, array_agg(f.t ORDER BY f.t) AS ts, "
        "array_agg(f.hash ORDER BY f.t) AS hs FROM fingerprints f JOIN files fi ON fi.id = f.file_id "
        "GROUP BY f.file_id, fi.sha256, fi.original_name"
    )
    out = []
    for r in rows:
        secs = np.array(r["ts"], dtype=np.int64)
        hs = np.array(r["hs"], dtype=np.int64).view(np.uint64)
        got = best_offset(query, secs, hs)
        if got is None or got[1] > max_distance:
            continue
        off, dist, k = got
        out.append(
            Match(int(r["file_id"]), r["sha256"], off, round(1 - dist / 32, 4), round(dist, 3), k, r["original_name"])
        )
    return out


def match_file(
    runtime: Runtime, path: Path, *, max_distance: float = DEFAULT_MAX_DISTANCE, limit: int = 10
) -> list[Match]:
    """Originals containing the video clip at ``path``, best first, with offsets and scores."""
    return match_fingerprint(runtime, fingerprint(Path(path)), max_distance=max_distance, limit=limit)
