"""End to end on real faces in ffmpeg-made video: draft (detect + track), render, and what the copy hides."""

from __future__ import annotations

import numpy as np

from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams
from liuhen.redaction.haar import HaarFaces
from liuhen.redaction.media import concrete, raw_frames
from liuhen.redaction.pipeline import derivation, draft
from liuhen.redaction.regions import digest
from liuhen.redaction.regions_core import active
from liuhen.redaction.render import RenderParams
from liuhen.redaction.verifier import ssim
from tests.redaction.conftest import FACES, SUPPRESSED_CALLS, Case, Suppressing

W, H = 640, 360


def rgb_frames(path):  # type: ignore[no-untyped-def]
    argv = concrete(["-v", "error", "-i", "{input}", "-map", "0:v:0", "-fps_mode", "passthrough",
                     "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], path)
    for buf in raw_frames(argv, W * H * 3):
        yield buf.reshape(H, W, 3)


def covered(doc, i: int, box) -> float:  # type: ignore[no-untyped-def]
    m = np.zeros((H, W), bool)
    for _, (x, y, w, h) in active(doc, i):
        m[y:y + h, x:x + w] = True
    x, y, w, h = box
    return float(m[y:y + h, x:x + w].mean())


def overlaps(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_every_face_is_covered_in_every_frame_including_suppressed_ones(redacted: Case) -> None:
    doc = redacted.draft.doc
    assert {r["kind"] for r in doc["regions"]} == {"face"}
    suppressed = {c * 3 + k for c in SUPPRESSED_CALLS for k in range(3)}
    for i, faces in enumerate(redacted.truth):
        for j, box in faces:
            c = covered(doc, i, box)
            assert c >= 0.95, f"frame {i} face {j} ({FACES[j].size} px) only {c:.0%} covered"
    assert suppressed <= set(range(len(redacted.truth)))  # the suppressed frames were checked above


def test_after_redaction_neither_detector_finds_a_true_face(redacted: Case, centerface: CenterFace,
                                                             haar: HaarFaces) -> None:
    hits_before = 0
    for i, (orig, red) in enumerate(zip(rgb_frames(redacted.src), rgb_frames(redacted.dst), strict=True)):
        if i % 5:
            continue
        truth = [b for _, b in redacted.truth[i]]
        hits_before += sum(1 for d in centerface.detect(orig) for b in truth if overlaps(d.box, b))
        for det in (centerface, haar):
            bad = [d for d in det.detect(red) for b in truth if overlaps(d.box, b)]
            assert not bad, f"frame {i}: {det.name} still finds {bad}"
        for b in truth:
            x, y, w, h = b
            if w >= 16 and h >= 16:
                s = ssim(orig[y:y + h, x:x + w, 1], red[y:y + h, x:x + w, 1])
                assert s is None or s < 0.3, f"frame {i}: SSIM {s:.2f} inside {b}"
    assert hits_before >= 20  # the faces were there to be found


def test_derivation_record_has_everything_to_reproduce(redacted: Case) -> None:
    rec = derivation("ab" * 32, 123, redacted.draft, RenderParams(), redacted.result)
    assert rec["regions_sha256"] == digest(redacted.draft.doc)
    det = rec["detection"]
    assert det["model_sha256"] == CenterFace.model_sha256 and det["params"]["stride"] == 3
    assert rec["derivative"]["sha256"] == redacted.result.sha256 and rec["derivative"]["mime"] == "video/mp4"
    assert rec["argv"]["encode"][0] == "ffmpeg" and "{input}" in rec["argv"]["encode"]
    assert {"ffmpeg", "opencv", "pipeline"} <= set(rec["tool"])
    assert "onnxruntime" in det["detector_params"]["runtime"]


def test_rerunning_the_recorded_detection_reproduces_the_region_list(redacted: Case) -> None:
    det = redacted.draft.detection
    assert det is not None
    # the fixture's detector dropped some calls (a stand-in for misses); re-run it the same way
    again = draft(redacted.src, detector=Suppressing(CenterFace(threshold=det["detector_params"]["threshold"]),
                                                      SUPPRESSED_CALLS),
                  detect=DetectParams(**det["params"]),
                  mutes=[(a["t0_ms"], a["t1_ms"]) for a in redacted.draft.doc["audio"]])
    assert digest(again.doc) == digest(redacted.draft.doc)
