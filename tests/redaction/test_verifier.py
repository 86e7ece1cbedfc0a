"""``redaction verify``: passes honest copies, fails naming the frame when a copy was altered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from liuhen.core.media import ffmpeg_exe
from liuhen.redaction.bagscript import SCRIPT_NAME, bag_script
from liuhen.redaction.pipeline import render_draft
from liuhen.redaction.regions import build
from liuhen.redaction.verifier import audio_pcm, find_ffmpeg, verify
from tests.redaction.conftest import MUTE, Case, rewrite

W, H = 640, 360


def test_honest_copy_passes_with_muted_range_below_minus_60_dbfs(redacted: Case) -> None:
    rep = verify(redacted.src, redacted.dst, redacted.draft.doc)
    assert rep.ok, rep.failures
    assert rep.frames == 60 and rep.audio_windows_checked == 20
    assert rep.min_outside_psnr_db is not None and rep.min_outside_psnr_db > 22
    pcm = audio_pcm(find_ffmpeg(), redacted.dst)
    assert pcm is not None
    a, b = (MUTE[0] + 50) * 16, (MUTE[1] - 50) * 16  # 16 samples per ms, 50 ms away from the edges
    rms = float(np.sqrt(np.mean(pcm[a:b] ** 2)))
    assert rms == 0 or 20 * np.log10(rms) < -60
    orig = audio_pcm(find_ffmpeg(), redacted.src)
    assert orig is not None and 20 * np.log10(float(np.sqrt(np.mean(orig[a:b] ** 2)))) > -30  # there was sound


def test_an_altered_block_outside_the_regions_fails_naming_the_frame(redacted: Case, tmp_path: Path) -> None:
    forged = tmp_path / "forged.mp4"
    rewrite(redacted.dst, forged, W, H, {17: (560, 300, 32, 32, 235)})
    rep = verify(redacted.src, forged, redacted.draft.doc)
    assert not rep.ok
    assert any(f.startswith("frame 17: outside the regions") for f in rep.failures), rep.failures
    assert all(f.startswith("frame 17:") for f in rep.failures if f.startswith("frame"))


def test_a_region_left_visible_fails_naming_the_frame(redacted: Case, tmp_path: Path) -> None:
    doc = redacted.draft.doc
    face = doc["regions"][0]
    # render without the first face, then check against the full list: that face is not hidden
    partial = build(doc["media"], doc["regions"][1:], doc["audio"])
    d = type(redacted.draft)(redacted.draft.info, partial, None)
    out = tmp_path / "partial.mp4"
    render_draft(redacted.src, out, d)
    rep = verify(redacted.src, out, doc)
    assert not rep.ok
    first = face["keys"][0][0]
    assert f"frame {first}: region {face['id']}" in " ".join(rep.failures), rep.failures[:3]


def test_audio_not_muted_fails(redacted: Case) -> None:
    # the original itself as "redacted copy": every region visible and the muted range audible
    rep = verify(redacted.src, redacted.src, redacted.draft.doc)
    assert any("muted range" in f for f in rep.failures)


def test_the_bag_script_runs_alone_with_numpy_and_ffmpeg(redacted: Case, tmp_path: Path) -> None:
    script = tmp_path / SCRIPT_NAME
    script.write_text(bag_script())
    regions = tmp_path / "regions.json"
    regions.write_text(json.dumps(redacted.draft.doc))
    # -I: isolated mode, no PYTHONPATH / cwd on sys.path — the liuhen package cannot be imported
    argv = [sys.executable, "-I", str(script), str(redacted.src), str(redacted.dst), str(regions),
            "--json", "--ffmpeg", ffmpeg_exe()]
    out = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout.splitlines()[-1])
    assert rep["ok"] and rep["frames"] == 60
    out = subprocess.run([*argv[:4], str(redacted.src), str(regions)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300, check=False)
    assert out.returncode == 1 and "FAILED" in out.stdout and "frame " in out.stdout
