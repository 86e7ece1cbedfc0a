"""One-pass redaction (``stream``) gives exactly what the two-pass way gives: same regions, same bytes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from liuhen.redaction import stream
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams, detect_faces
from liuhen.redaction.media import probe
from liuhen.redaction.pipeline import Draft, draft_and_render, render_draft
from liuhen.redaction.render import RenderParams
from tests.redaction.conftest import MUTE


@pytest.mark.parametrize(("stride", "smallest_buffer"), [(3, True), (10, False)])
def test_streamed_copy_equals_detect_then_render(clip, tmp_path: Path, stride: int,  # type: ignore[no-untyped-def]
                                                  smallest_buffer: bool, caplog: pytest.LogCaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With the smallest lookahead (settle + two samples: 30 of the clip's 60 frames at stride 3) frames are
    rendered while later ones are still being detected, two detections at a time; with the default one the
    2 s clip fits in the buffer whole."""
    if smallest_buffer:
        monkeypatch.setattr(stream, "BUFFER_BYTES", 0)
    src, _truth = clip
    det = CenterFace(threshold=0.4)
    params = DetectParams(stride=stride)
    rp = RenderParams(threads=1)  # byte-identical encodes
    with caplog.at_level(logging.WARNING, logger="liuhen.redaction.stream"):
        d, res = draft_and_render(src, tmp_path / "one.mp4", detector=det, detect=params, mutes=[MUTE],
                                  boxes=[(0, 500, (10, 10, 40, 40))], render=rp)
    assert not caplog.records  # no frame had to be rendered again
    info = probe(src)
    offline = detect_faces(src, info, det, params)
    assert [r for r in d.doc["regions"] if r["kind"] == "face"] == offline.regions and len(offline.regions) >= 3
    assert d.samples == offline.samples
    assert d.doc["regions"][-1]["id"] == "manual-0001" and d.doc["audio"][0]["t0_ms"] == MUTE[0]
    two = render_draft(src, tmp_path / "two.mp4", Draft(d.info, d.doc, None), rp)
    assert res.sha256 == two.sha256 and res.frames == info.frames
    assert d.detection is not None and d.detection["params"]["stride"] == stride


def test_lookahead_is_the_byte_budget_but_never_less_than_settle_plus_two_samples() -> None:
    # 1080p yuv420p: 1920·1080·3/2 = 3,110,400 bytes; 512 MiB // that = 172 frames (> 66 + 20)
    assert stream.buffer_frames(3_110_400, 66, 10) == 172
    # 4K: 12,441,600 bytes a frame, 43 fit in the budget, fewer than the 66 + 2·10 rendering must wait for
    assert stream.buffer_frames(12_441_600, 66, 10) == 86
