"""The match index beside PostgreSQL: built from the catalog's fingerprints, refreshed, reopened from disk.

Real footage (ffmpeg), real fingerprints (``transcoder.fingerprint``) saved the way the transcoder saves
them (``transcoder.records.save_fingerprint``), real PostgreSQL. Expected answers: ``transcoder.match``'s
full scan (``match_fingerprint``) on the same catalog.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from liuhen.core.media import ffmpeg_exe, make_video
from liuhen.transcoder.fingerprint import Fingerprint, fingerprint
from liuhen.transcoder.match import build_index, index_dir, match_fingerprint, scan_fingerprint
from liuhen.transcoder.matchindex_store import MatchIndex, rebuild, refresh
from liuhen.transcoder.records import save_fingerprint


def _file_row(catalog, name: str, data: bytes) -> int:  # type: ignore[no-untyped-def]
    sha = hashlib.sha256(data).hexdigest()
    row = catalog.one(
        "INSERT INTO files (sha256, size, media_kind, ext, original_name, storage_key) "
        "VALUES (%s, %s, 'video', 'mp4', %s, %s) RETURNING id",
        (sha, len(data), name, f"sha256/{sha}"),
    )
    return int(row["id"])


def _save(catalog, name: str, fp: Fingerprint) -> int:  # type: ignore[no-untyped-def]
    fid = _file_row(catalog, name, name.encode() + fp.digest().encode())
    save_fingerprint(catalog, fid, "0" * 64, fp, {"algo": "dct64-v1"}, "test")
    return fid


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("mi")
    orig = make_video(d / "orig.mp4", seconds=30, width=640, height=360, bitrate="600k", seed=5)
    other = make_video(d / "other.mp4", seconds=12, width=640, height=360, bitrate="600k", seed=6)
    excerpt = d / "excerpt.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-ss", "12", "-i", str(orig), "-t", "10", "-vf", "scale=854:480",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-an", str(excerpt)],
        check=True, capture_output=True,
    )
    return {"orig": orig, "other": other, "excerpt": excerpt}


def _answers(ix: MatchIndex, fp: Fingerprint) -> dict[int, tuple[int, float, int]]:
    return {h.file_id: (h.offset_s, round(h.mean_distance, 3), h.overlap_s)
            for h in ix.search(fp.seconds, fp.hashes, max_distance=10.0)}


def _scan(runtime, fp: Fingerprint) -> dict[int, tuple[int, float, int]]:  # type: ignore[no-untyped-def]
    return {m.file_id: (m.offset_s, m.mean_distance, m.overlap_s) for m in match_fingerprint(runtime, fp)}


def test_real_excerpt_found_at_its_offset_like_the_scan(runtime, footage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    o = _save(runtime.catalog, "orig.mp4", fingerprint(footage["orig"]))
    _save(runtime.catalog, "other.mp4", fingerprint(footage["other"]))
    ix = rebuild(tmp_path / "ix", runtime.catalog)
    clip = fingerprint(footage["excerpt"])
    got = _answers(ix, clip)
    assert set(got) == {o} and abs(got[o][0] - 12) <= 1
    assert got == _scan(runtime, clip)
    # reopened from disk (memory-mapped): same answer
    assert _answers(MatchIndex.open(tmp_path / "ix"), clip) == got


def test_refresh_adds_new_and_refingerprinted_originals_only(runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(9)

    def fp(n: int) -> Fingerprint:
        h = rng.integers(0, 2**63, n, dtype=np.int64).view(np.uint64)
        return Fingerprint(np.arange(n, dtype=np.int32), h, "keyframes", n)

    a_fp = fp(60)
    a = _save(runtime.catalog, "a.mp4", a_fp)
    ix = rebuild(tmp_path / "ix", runtime.catalog)
    assert refresh(ix, runtime.catalog) == 0  # nothing new
    b_fp = fp(40)
    b = _save(runtime.catalog, "b.mp4", b_fp)
    assert refresh(ix, runtime.catalog) == 1 and len(ix.segments) == 2
    clip_b = Fingerprint(np.arange(10, dtype=np.int32), b_fp.hashes[20:30], "full", 10)
    assert _answers(ix, clip_b) == {b: (20, 0.0, 10)} == _scan(runtime, clip_b)

    # a is fingerprinted again (e.g. --force after a decoder fix): the newer segment answers for it
    runtime.catalog.one("DELETE FROM fingerprint_sets WHERE file_id = %s RETURNING file_id", (a,))
    a2 = fp(60)
    save_fingerprint(runtime.catalog, a, "0" * 64, a2, {"algo": "dct64-v1"}, "test")
    assert refresh(ix, runtime.catalog) == 1
    old_clip = Fingerprint(np.arange(10, dtype=np.int32), a_fp.hashes[5:15], "full", 10)
    new_clip = Fingerprint(np.arange(10, dtype=np.int32), a2.hashes[5:15], "full", 10)
    assert _answers(ix, old_clip) == {} == _scan(runtime, old_clip)
    assert _answers(ix, new_clip) == {a: (5, 0.0, 10)} == _scan(runtime, new_clip)


def test_index_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"algo": "other-v9", "segments": []}')
    with pytest.raises(ValueError, match="rebuild it"):
        MatchIndex.open(tmp_path)


def test_match_uses_the_index_once_built_and_sees_later_originals(runtime, footage) -> None:  # type: ignore[no-untyped-def]
    """`liuhen match-index` then `liuhen match`: same matches as the scan, new originals included."""
    o = _save(runtime.catalog, "orig.mp4", fingerprint(footage["orig"]))
    clip = fingerprint(footage["excerpt"])
    scanned = match_fingerprint(runtime, clip)
    assert build_index(runtime) > 0 and (index_dir(runtime) / "manifest.json").exists()
    assert match_fingerprint(runtime, clip) == scanned and scanned[0].file_id == o
    other = fingerprint(footage["other"])
    x = _save(runtime.catalog, "other.mp4", other)  # fingerprinted after the index was built
    part = Fingerprint(other.seconds[:8], other.hashes[:8], "full", 8)
    got = match_fingerprint(runtime, part)
    assert [m.file_id for m in got] == [x] and got == scan_fingerprint(runtime, part)
