"""POST /match: bounded uploads, clear errors, and a real match of an excerpt against stored footage."""

from __future__ import annotations

from pathlib import Path

import pytest

from liuhen.api.routes import files as files_routes
from tests.api.conftest import bearer


def test_oversized_upload_is_refused_with_413(client, tokens, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(files_routes, "MAX_MATCH_UPLOAD_BYTES", 1024)
    r = client.post(
        "/match", headers=bearer(tokens["reviewer"]), files={"upload": ("clip.mp4", b"\0" * 4096, "video/mp4")}
    )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "MiB" in r.json()["detail"]


def test_garbage_upload_is_a_422_not_a_crash(client, tokens) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/match", headers=bearer(tokens["reviewer"]), files={"upload": ("clip.mp4", b"not a video" * 100, "video/mp4")}
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("role", ["external"])
def test_match_is_not_open_to_every_role(client, tokens, role) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/match", headers=bearer(tokens[role]), files={"upload": ("c.mp4", b"x", "video/mp4")})
    assert r.status_code == 403


def test_excerpt_upload_finds_its_original(client, tokens, runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An excerpt cut from a processed original is matched to it over HTTP."""
    import subprocess

    from liuhen.core.media import ffmpeg_exe, make_video
    from liuhen.integrity import log as auditlog
    from liuhen.integrity.events import Event
    from liuhen.storage.base import key_for
    from liuhen.transcoder.service import process_file

    src = make_video(tmp_path / "orig.mp4", seconds=12, width=320, height=240, bitrate="400k", seed=41)
    import hashlib

    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    runtime.store.put(key_for(digest), src, sha256=digest)
    with runtime.catalog.tx() as conn:
        row = conn.execute(
            "INSERT INTO files (sha256, size, media_kind, storage_key) VALUES (%s, %s, 'video', %s) RETURNING id",
            (digest, src.stat().st_size, key_for(digest)),
        ).fetchone()
        auditlog.record(conn, Event("ingestion", "test", {"sha256": digest}, {"size": src.stat().st_size}))
    process_file(runtime, int(row["id"]))
    excerpt = tmp_path / "excerpt.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-ss", "4", "-i", str(src), "-t", "5", "-vf", "scale=160:120",
         "-c:v", "libx264", "-g", "30", "-an", str(excerpt)],
        check=True,
    )
    r = client.post(
        "/match", headers=bearer(tokens["reviewer"]),
        files={"upload": ("excerpt.mp4", excerpt.read_bytes(), "video/mp4")},
    )
    assert r.status_code == 200, r.text
    best = r.json()["matches"][0]
    assert best["sha256"] == digest
    assert abs(float(best["offset_s"]) - 4) <= 1
