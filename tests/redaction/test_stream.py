"""One-pass redaction (``stream``) gives exactly what the two-pass way gives: same regions, same bytes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams, detect_faces
from liuhen.redaction.media import probe
from liuhen.redaction.pipeline import Draft, draft_and_render, render_draft
from liuhen.redaction.render import RenderParams
from tests.redaction.conftest import MUTE


@pytest.mark.parametrize("stride", [3, 10])
def test_streamed_copy_equals_detect_then_render(clip, tmp_path: Path, stride: int,  # type: ignore[no-untyped-def]
                                                  caplog: pytest.LogCaptureFixture) -> None:
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
