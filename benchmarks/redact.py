"""Redaction benchmark: ``python -m benchmarks.redact [--quick]``.

On a 1080p30 H.264 clip with moving real faces (scikit-image's astronaut, 30–120 px, one leaving the
picture), in one run:
(a) redaction × realtime: detect (CenterFace, fixed 960×544 input, every 3rd frame) + track + render
    (blur, libx264 veryfast crf 18, AAC) — clip duration / wall time;
(b) render vs plain ffmpeg applying the same precomputed regions (method ``fill`` on both sides so the
    work is comparable: ours = decode pipe → numpy → encode pipe; ffmpeg = one ``drawbox`` per key
    segment with ``enable='between(n,a,b)'``, same encoder settings) — ``vs_ffmpeg_render`` = our render
    time / ffmpeg's (1.0 = as fast; lower is better);
(c) detection recall by face size (a true, fully visible face is found when a detection has IoU ≥ 0.3)
    and precision (detections that match a true face / all detections), on the detected frames.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from liuhen.core.media import ffmpeg_exe
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams, detect_faces
from liuhen.redaction.pipeline import Draft, draft, render_draft
from liuhen.redaction.regions import build
from liuhen.redaction.regions_core import padded
from liuhen.redaction.synthetic import FaceSpec, make_clip
from liuhen.redaction.track import iou

CACHE = Path(os.environ.get("LIUHEN_BENCH_DIR", tempfile.gettempdir())) / "liuhen-bench-redact"
W, H = 1920, 1080
FACES = [
    FaceSpec(120, 100, 200, vx=4.0, vy=0.5),
    FaceSpec(90, 1500, 150, vx=-3.0, variant=1),
    FaceSpec(60, 700, 600, vx=2.0, vy=-1.0, variant=2),
    FaceSpec(50, 1200, 800, vx=-2.5, variant=3),
    FaceSpec(40, 300, 700, vx=3.0, vy=1.0, variant=1),
    FaceSpec(34, 1000, 350, vx=-1.5, variant=0),
    FaceSpec(30, 1600, 900, vx=12.0, variant=2),  # leaves the picture after ~1 s
]


def _clip(seconds: int) -> tuple[Path, list[list[tuple]]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"faces_1080p_{seconds}s.mp4"
    truth_file = path.with_suffix(".truth.json")
    if path.exists() and truth_file.exists():
        return path, [[tuple((j, tuple(b))) for j, b in f] for f in json.loads(truth_file.read_text())]
    truth = make_clip(path, FACES, width=W, height=H, fps=30, seconds=seconds, crf=20)
    truth_file.write_text(json.dumps(truth))
    return path, truth


def ffmpeg_drawbox(src: Path, dst: Path, doc: dict[str, Any]) -> float:
    """Plain ffmpeg: the same regions as filled boxes, one drawbox per key segment."""
    boxes = []
    for r in doc["regions"]:
        for k0, k1 in zip(r["keys"], r["keys"][1:], strict=False):
            a = padded(tuple(k0[1:]), r["pad_pct"], W, H)
            b = padded(tuple(k1[1:]), r["pad_pct"], W, H)
            if a and b:
                x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
                boxes.append(f"drawbox=x={x0}:y={y0}:w={x1 - x0}:h={y1 - y0}:c=black:t=fill:"
                             f"enable='between(n,{k0[0]},{k1[0]})'")
    script = dst.with_suffix(".filter")
    script.write_text(",".join(boxes) or "null")
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(src),
            "-/filter:v", str(script), "-map", "0:v:0", "-map", "0:a:0", "-c:a", "aac", "-b:a", "192k",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            str(dst)]
    t0 = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - t0


def recall_precision(samples: list, truth: list[list[tuple]]) -> dict[str, float]:
    found = {30: [0, 0], 40: [0, 0]}  # bucket → [hits, total]; 30: 30–39 px, 40: ≥ 40 px
    tp = total = 0
    for frame, dets in samples:
        for j, box in truth[frame]:
            size = FACES[j].size
            full = box[3] == size and box[0] > 0 and box[0] + box[2] < W  # fully in view
            if not full:
                continue
            b = found[40 if size >= 40 else 30]
            b[1] += 1
            b[0] += any(iou(d.box, box) >= 0.3 for d in dets)
        for d in dets:
            total += 1
            tp += any(iou(d.box, box) >= 0.3 for _, box in truth[frame])
    return {"recall_40px": found[40][0] / max(1, found[40][1]), "recall_30px": found[30][0] / max(1, found[30][1]),
            "precision": tp / max(1, total)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seconds = 4 if args.quick else 20
    src, truth = _clip(seconds)
    out = CACHE / "out"
    out.mkdir(exist_ok=True)
    detector = CenterFace(threshold=0.4)
    params = DetectParams(stride=3)

    t0 = time.perf_counter()
    d = draft(src, detector=detector, detect=params)
    t_detect = time.perf_counter() - t0
    res = render_draft(src, out / "ours_blur.mp4", d)
    total = t_detect + res.seconds
    print(f"redaction (detect {t_detect:.1f} s + render {res.seconds:.1f} s) of {seconds} s 1080p30: "
          f"{seconds / total:.2f}× realtime; {len(d.doc['regions'])} face tracks")

    fill = Draft(d.info, build(d.doc["media"], [{**r, "method": "fill"} for r in d.doc["regions"]], []), None)
    ours = render_draft(src, out / "ours_fill.mp4", fill).seconds
    plain = ffmpeg_drawbox(src, out / "ffmpeg_fill.mp4", fill.doc)
    print(f"render, same regions filled: ours {ours:.1f} s vs plain ffmpeg drawbox {plain:.1f} s → {ours / plain:.2f}×")

    rp = recall_precision(d.samples, truth)
    print(f"detection at fixed 960×544: recall ≥40 px {rp['recall_40px']:.3f}, 30–39 px {rp['recall_30px']:.3f}, "
          f"precision {rp['precision']:.3f}")
    t0 = time.perf_counter()
    full = detect_faces(src, d.info, CenterFace.for_side(1280), DetectParams(stride=3, max_side=1280))
    t_full = time.perf_counter() - t0
    rf = recall_precision(full.samples, truth)
    print(f"detection at fixed 1280×736: recall ≥40 px {rf['recall_40px']:.3f}, "
          f"30–39 px {rf['recall_30px']:.3f}, precision {rf['precision']:.3f}, {t_full:.1f} s")
    print(json.dumps({"x_realtime_1080p": round(seconds / total, 3), "vs_ffmpeg_render": round(ours / plain, 3),
                      **{k: round(v, 3) for k, v in rp.items()}, "seconds": seconds,
                      "detect_s": round(t_detect, 2), "render_s": round(res.seconds, 2),
                      "recall_30px_1280": round(rf["recall_30px"], 3),
                      "precision_1280": round(rf["precision"], 3),
                      "detect_1280_s": round(t_full, 2), "load_avg_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
