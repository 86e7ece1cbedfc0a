"""process_file end to end on real footage: proxies, thumbnails, fingerprints, events (I7), idempotency."""

from __future__ import annotations

import hashlib
import json
import subprocess

from liuhen.core.media import ffmpeg_exe
from liuhen.integrity.events import Event
from liuhen.transcoder.service import process_file


def _sha(p):  # type: ignore[no-untyped-def]
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_h264_is_remuxed_with_thumbnails_fingerprint_and_derivation_events(runtime, media, add):
    fid = add(media["h264_mp4"])
    res = process_file(runtime, fid)
    assert res.status == "ok", res.error
    kinds = sorted({d.kind for d in res.derivatives})
    assert kinds == ["contact_sheet", "proxy", "thumbnail"]
    row = runtime.catalog.one("SELECT * FROM files WHERE id = %s", (fid,))
    assert row["media_status"] == "ok" and row["media_error"] is None
    assert row["duration_s"] == 4.0 and row["media_info"]["width"] == 320
    assert res.fingerprint_seconds == 4

    proxy = next(d for d in res.derivatives if d.kind == "proxy")
    recipe = runtime.catalog.one("SELECT recipe FROM derivatives WHERE file_id=%s AND kind='proxy'", (fid,))["recipe"]
    assert recipe["mode"] == "remux" and "-c" in recipe["argv"] and "copy" in recipe["argv"]

    # Remux: the H.264 elementary stream is bit-identical to the original's.
    def video_md5(p):  # type: ignore[no-untyped-def]
        out = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(p), "-map", "0:v", "-c", "copy", "-f", "md5", "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    proxy_path = runtime.settings.derived_dir / proxy.path
    assert video_md5(proxy_path) == video_md5(media["h264_mp4"])

    # I7: every derivative row has its derivation event with original digest, tool versions, argv, own digest.
    rows = runtime.catalog.all(
        "SELECT d.kind, d.sha256, d.path, e.body FROM derivatives d JOIN log_events e ON e.id = d.event_id "
        "WHERE d.file_id = %s",
        (fid,),
    )
    assert len(rows) == len(res.derivatives)
    orig_sha = _sha(media["h264_mp4"])
    for r in rows:
        ev = Event.from_leaf(bytes(r["body"]))
        assert ev.type == "derivation" and ev.subject["sha256"] == orig_sha
        assert ev.data["derivative"]["sha256"] == r["sha256"] == _sha(runtime.settings.derived_dir / r["path"])
        assert ev.data["tool"]["ffmpeg"] and ev.data["tool"]["pyav"]
        assert ev.data["argv"][0] == "ffmpeg" and "{input}" in ev.data["argv"]
    fp_ev = runtime.catalog.one(
        "SELECT e.body FROM fingerprint_sets f JOIN log_events e ON e.id = f.event_id WHERE f.file_id=%s", (fid,)
    )
    assert json.loads(bytes(fp_ev["body"]))["data"]["derivative"]["kind"] == "fingerprint"


def test_i7_recorded_argv_regenerates_identical_proxy(runtime, media, add, tmp_path):
    """I7: re-running the recorded command on the original reproduces the derivative's digest."""
    fid = add(media["hevc_mp4"])
    res = process_file(runtime, fid)
    assert res.status == "ok", res.error
    row = runtime.catalog.one("SELECT sha256, recipe FROM derivatives WHERE file_id=%s AND kind='proxy'", (fid,))
    assert row["recipe"]["mode"] == "transcode" and "libx264" in row["recipe"]["argv"]
    out = tmp_path / "again.mp4"
    argv = [
        ffmpeg_exe()
        if a == "ffmpeg"
        else str(media["hevc_mp4"])
        if a == "{input}"
        else str(out)
        if a == "{output}"
        else a
        for a in row["recipe"]["argv"]
    ]
    subprocess.run(argv, check=True, capture_output=True)
    assert _sha(out) == row["sha256"]


def test_audio_and_photo(runtime, media, add):
    a = process_file(runtime, add(media["wav"], "audio"))
    p = process_file(runtime, add(media["jpg"], "photo"))
    assert (a.status, [d.kind for d in a.derivatives]) == ("ok", ["audio"])
    assert (p.status, [d.kind for d in p.derivatives]) == ("ok", ["preview"])
    assert a.derivatives[0].mime == "audio/mp4" and a.derivatives[0].path.endswith(".m4a")


def test_redelivery_is_idempotent(runtime, media, add):
    fid = add(media["h264_mp4_b"])
    first = process_file(runtime, fid)
    again = process_file(runtime, fid)
    assert again.status == "skipped" and again.created == 0
    # even a forced re-run (as after a crash mid-job) adds no duplicate rows or events
    forced = process_file(runtime, fid, force=True)
    assert forced.status == "ok" and forced.created == 0
    n = runtime.catalog.one("SELECT count(*) AS n FROM derivatives WHERE file_id=%s", (fid,))["n"]
    ev = runtime.catalog.one("SELECT count(*) AS n FROM log_events WHERE type='derivation'")["n"]
    assert n == len(first.derivatives) and ev == n + 1  # + the fingerprint event
