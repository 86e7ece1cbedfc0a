"""Truncated recordings (power lost mid-write): still flagged ``corrupt``, but the part that is present
gets labelled *partial* derivatives, each with its derivation event (I7). Garbage gets nothing."""

from __future__ import annotations

import hashlib
import os

import av

from liuhen.integrity.events import Event
from liuhen.transcoder.service import process_file


def _decoded_frames_and_seconds(path):  # type: ignore[no-untyped-def]
    with av.open(str(path)) as c:
        frames = [f for f in c.decode(video=0)]
    return len(frames), float(frames[-1].time) if frames else 0.0


def test_truncated_gets_partial_proxy_and_thumbnails_but_stays_flagged(runtime, media, add):
    src = media["truncated_mp4"]
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    fid = add(src)
    res = process_file(runtime, fid)
    row = runtime.catalog.one("SELECT * FROM files WHERE id = %s", (fid,))
    assert res.status == row["media_status"] == "corrupt"
    assert row["media_error"].startswith("truncated: only ") and res.error == row["media_error"]
    assert sorted({d.kind for d in res.derivatives}) == ["contact_sheet", "proxy", "thumbnail"]

    proxy = runtime.catalog.one("SELECT * FROM derivatives WHERE file_id = %s AND kind = 'proxy'", (fid,))
    assert proxy["path"].endswith("proxy.partial.mp4") and proxy["mime"] == "video/mp4"
    params = proxy["recipe"]["parameters"]
    assert params["partial"] is True and params["vcodec"] == "libx264"
    assert 0 < params["decodable_s"] < params["declared_s"] == 4.0
    assert {"-err_detect", "ignore_err"} <= set(proxy["recipe"]["argv"])

    # The partial proxy decodes (H.264) and is shorter than the original.
    ppath = runtime.settings.derived_dir / proxy["path"]
    with av.open(str(ppath)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        dur = c.duration / 1_000_000
    n, last = _decoded_frames_and_seconds(ppath)
    n_orig, _ = _decoded_frames_and_seconds(media["h264_mp4"])
    assert 0 < n < n_orig and last < 4.0 and dur < 4.0
    assert abs(dur - params["decodable_s"]) < 0.5

    # I7: every partial derivative has its derivation event naming the original and its own digest.
    rows = runtime.catalog.all(
        "SELECT d.sha256, d.path, d.recipe, e.body FROM derivatives d JOIN log_events e ON e.id = d.event_id "
        "WHERE d.file_id = %s",
        (fid,),
    )
    assert len(rows) == len(res.derivatives) >= 3
    for r in rows:
        ev = Event.from_leaf(bytes(r["body"]))
        assert ev.type == "derivation" and ev.subject["sha256"] == before
        assert ev.data["derivative"]["sha256"] == r["sha256"]
        assert hashlib.sha256((runtime.settings.derived_dir / r["path"]).read_bytes()).hexdigest() == r["sha256"]
        assert ev.data["parameters"]["partial"] is True and ev.data["argv"][0] == "ffmpeg"
        assert "partial" in r["path"]

    # Idempotent: a re-delivery is skipped; a forced re-run adds no rows or events.
    assert process_file(runtime, fid).status == "skipped"
    forced = process_file(runtime, fid, force=True)
    assert forced.status == "corrupt" and forced.created == 0 and len(forced.derivatives) == len(rows)
    assert runtime.catalog.one("SELECT count(*) AS n FROM log_events WHERE type='derivation'")["n"] == len(rows)

    # The original is untouched (I1).
    key = row["storage_key"]
    assert hashlib.sha256(b"".join(runtime.store.get(key))).hexdigest() == before


def test_garbage_and_zero_length_still_get_nothing(runtime, add, tmp_path):
    zero, garbage = tmp_path / "zero.mp4", tmp_path / "garbage.mp4"
    zero.write_bytes(b"")
    garbage.write_bytes(os.urandom(64 * 1024))
    for p in (zero, garbage):
        fid = add(p)
        res = process_file(runtime, fid)
        assert res.status == "corrupt" and res.derivatives == []
        assert runtime.catalog.one("SELECT count(*) AS n FROM derivatives WHERE file_id=%s", (fid,))["n"] == 0
