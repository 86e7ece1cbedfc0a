"""Rendering variants: photos (JPEG, EXIF dropped), tone over speech, "hide everything except", bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.errors import RedactionMediaFailed
from liuhen.redaction.media import probe
from liuhen.redaction.pipeline import draft, render_draft
from liuhen.redaction.synthetic import ASTRONAUT_FACE, FaceSpec, make_clip
from liuhen.redaction.verifier import audio_pcm, find_ffmpeg, verify


def test_photo_faces_hidden_as_jpeg_and_verified(tmp_path: Path, centerface: CenterFace) -> None:
    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    d = draft(src, kind="photo", detector=centerface)
    assert len(d.doc["regions"]) >= 1 and d.doc["media"]["frames"] == 1
    out = tmp_path / "photo.jpg"
    res = render_draft(src, out, d)
    assert res.mime == "image/jpeg" and out.read_bytes()[:2] == b"\xff\xd8"
    bgr = cv2.imread(str(out))
    assert bgr is not None
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    assert not [x for x in centerface.detect(img) if abs(x.x - ASTRONAUT_FACE[0]) < 40]
    rep = verify(src, out, d.doc)
    assert rep.ok, rep.failures


def test_tone_replaces_the_sound_and_keep_hides_all_but_one_box(tmp_path: Path) -> None:
    src = tmp_path / "a.mp4"
    make_clip(src, [FaceSpec(80, 60, 60)], seconds=1.0)
    keep_box = (400, 100, 120, 120)
    d = draft(src, mutes=[(200, 600)], tone=True, keep=[(0, 1000, keep_box)], method="pixelate")
    out = tmp_path / "b.mp4"
    render_draft(src, out, d)
    rep = verify(src, out, d.doc)
    assert rep.ok, rep.failures
    assert rep.max_inside_ssim is not None and rep.max_inside_ssim < 0.5
    pcm = audio_pcm(find_ffmpeg(), out)
    assert pcm is not None
    seg = pcm[300 * 16:500 * 16]  # inside the tone range: a 1 kHz tone dominates
    spec = np.abs(np.fft.rfft(seg))
    freqs = np.fft.rfftfreq(seg.size, 1 / 16000)
    assert abs(freqs[int(np.argmax(spec))] - 1000) < 20


def test_garbage_input_is_a_clear_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(RedactionMediaFailed, match=r"bad\.mp4"):
        probe(bad)
