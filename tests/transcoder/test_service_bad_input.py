"""Hostile and broken inputs: each ends as a flagged file with a clear error; nothing crashes or hangs.

The original is never touched (I1): its stored bytes still hash to the catalog digest afterwards.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from liuhen.core.media import ffmpeg_exe, make_video
from liuhen.transcoder.service import process_file
from liuhen.transcoder.workers import InProcessWorkers


def _png_bomb(path: Path, side: int = 30000) -> Path:
    """A ~30 kB PNG whose header claims side×side pixels; its IDAT inflates to a huge all-black image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00" * (side + 1) * 64, 9)  # first 64 rows only; the rest missing
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    return path


def _absurd_duration(src: Path, out: Path) -> Path:
    """A valid MP4 whose timestamps are stretched 100000× (``-itsscale``): 4 s of frames claim ~110 h."""
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-itsscale",
            "100000",
            "-i",
            str(src),
            "-map",
            "0:v",
            "-c",
            "copy",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def bad(tmp_path_factory, media):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("bad")
    (d / "zero.mp4").write_bytes(b"")
    (d / "garbage.mp4").write_bytes(os.urandom(64 * 1024))
    big = make_video(d / "big.mp4", seconds=1, width=4096, height=2304, bitrate="200k", seed=9, audio=False)
    return {
        "truncated": media["truncated_mp4"],
        "zero": d / "zero.mp4",
        "garbage": d / "garbage.mp4",
        "bomb_png": _png_bomb(d / "bomb.png"),
        "duration": _absurd_duration(media["h264_mp4"], d / "forever.mp4"),
        "big_h264": big,
    }


EXPECT = {
    "truncated": ("corrupt", "truncated"),
    "zero": ("corrupt", "zero-length"),
    "garbage": ("corrupt", "Invalid data"),
    "bomb_png": ("unsupported", "absurd resolution 30000x30000"),
    "duration": ("unsupported", "absurd duration"),
    "big_h264": ("unsupported", "absurd resolution 4096x2304"),
}


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_bad_input_is_flagged_with_clear_error(runtime, bad, add, name, monkeypatch):
    from liuhen.transcoder import settings as tsettings

    # the 4K clip stands in for an absurd H.264 stream: lower the pixel limit so it trips it cheaply
    limits = tsettings.TranscoderSettings(max_pixels=1920 * 1080)
    monkeypatch.setattr(tsettings, "transcoder_settings", lambda: limits)
    monkeypatch.setattr("liuhen.transcoder.service.transcoder_settings", lambda: limits)
    path = bad[name]
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    fid = add(path, "photo" if name == "bomb_png" else "video")
    res = process_file(runtime, fid)
    status, words = EXPECT[name]
    row = runtime.catalog.one("SELECT media_status, media_error FROM files WHERE id=%s", (fid,))
    assert (res.status, row["media_status"]) == (status, status)
    assert words in row["media_error"], row["media_error"]
    derived = runtime.catalog.all("SELECT recipe FROM derivatives WHERE file_id=%s", (fid,))
    if name == "truncated":  # the decodable part gets derivatives labelled partial (tests/transcoder/test_partial.py)
        assert derived and all(d["recipe"]["parameters"].get("partial") is True for d in derived)
    else:
        assert derived == []
    stored = b"".join(
        runtime.store.get(runtime.catalog.one("SELECT storage_key FROM files WHERE id=%s", (fid,))["storage_key"])
    )
    assert hashlib.sha256(stored).hexdigest() == before  # I1: original untouched


def test_workers_survive_a_batch_of_bad_files(runtime, bad, media, add):
    ids = [add(p) for p in (bad["zero"], bad["garbage"], bad["truncated"], bad["bomb_png"])]
    good = add(media["h264_mp4_b"])
    w = InProcessWorkers(runtime, threads=2).start()
    try:
        from liuhen.transcoder.jobs import enqueue

        for i in [*ids, good]:
            enqueue(i)
        assert w.join_idle(timeout=120)
    finally:
        w.stop()
    st = {r["id"]: r["media_status"] for r in runtime.catalog.all("SELECT id, media_status FROM files")}
    assert st[good] == "ok" and all(st[i] in ("corrupt", "unsupported") for i in ids)
    assert runtime.catalog.one("SELECT count(*) AS n FROM transcode_jobs WHERE outcome='error'")["n"] == 0
