"""Redaction benchmark: ``python -m benchmarks.redact [--quick] [--compare]``.

On a 1080p30 H.264 clip like a body-worn recorder writes (10 Mbit/s, light sensor noise; moving real
faces — scikit-image's astronaut, 30–120 px, one leaving the picture), in one run:
(a) redaction × realtime with the defaults, exactly as ``liuhen redact --faces`` does it
    (``pipeline.draft_and_render``: one decode; CenterFace at 1280×720 on every 10th frame in a worker
    thread, tracking, blur, libx264 at the default preset, AAC) — clip duration / wall time; also the
    CPU seconds used (this process and its ffmpeg children) per second of video, which does not depend
    on what else the machine is doing: ≤ 2.0 means 2 idle cores can keep up;
(b) render vs plain ffmpeg applying the same precomputed regions (method ``fill`` on both sides so the
    work is comparable: ours = decode pipe → numpy → encode pipe; ffmpeg = one ``drawbox`` per key
    segment with ``enable='between(n,a,b)'``, same encoder settings) — ``vs_ffmpeg_render`` = our render
    time / ffmpeg's (1.0 = as fast; lower is better);
(c) detection recall by face size (a true, fully visible face is found when a detection has IoU ≥ 0.3)
    and precision (detections that match a true face / all detections), on the detected frames;
    ``--compare`` adds the same at 960×540 (the earlier default).
Last line: one JSON object (with the 1-minute load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from liuhen.core.media import ffmpeg_exe
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DETECT_SIDE, DetectParams, detect_faces
from liuhen.redaction.pipeline import Draft, draft_and_render, render_draft
from liuhen.redaction.regions import build
from liuhen.redaction.regions_core import padded
from liuhen.redaction.render import RenderParams
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
    path = CACHE / f"rec_1080p_{seconds}s.mp4"
    truth_file = path.with_suffix(".truth.json")
    if path.exists() and truth_file.exists():
        return path, [[tuple((j, tuple(b))) for j, b in f] for f in json.loads(truth_file.read_text())]
    truth = make_clip(path, FACES, width=W, height=H, fps=30, seconds=seconds, noise=3, bitrate="10M")
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
            "-c:v", "libx264", "-preset", RenderParams.preset, "-crf", str(RenderParams.crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart",
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


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--compare", action="store_true", help="also detection at 960×540")
    args = ap.parse_args()
    seconds = 4 if args.quick else 20
    src, truth = _clip(seconds)
    out = CACHE / "out"
    out.mkdir(exist_ok=True)
    load0 = os.getloadavg()[0]
    detector = CenterFace.for_side(DETECT_SIDE)
    params = DetectParams()

    t0, c0 = time.perf_counter(), _cpu()
    d, _ = draft_and_render(src, out / "ours_blur.mp4", detector=detector, detect=params)
    total, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"redaction (detect + track + render in one decode, stride {params.stride}, detector "
          f"{detector.width}x{detector.height}, preset {RenderParams.preset}) of {seconds} s 1080p30: {total:.1f} s "
          f"→ {seconds / total:.2f}× realtime; {cpu:.1f} CPU-s = {cpu / seconds:.2f} CPU-s per video second; "
          f"{len(d.doc['regions'])} face tracks")

    fill = Draft(d.info, build(d.doc["media"], [{**r, "method": "fill"} for r in d.doc["regions"]], []), None)
    ours = render_draft(src, out / "ours_fill.mp4", fill).seconds
    plain = ffmpeg_drawbox(src, out / "ffmpeg_fill.mp4", fill.doc)
    print(f"render, same regions filled: ours {ours:.1f} s vs plain ffmpeg drawbox {plain:.1f} s → {ours / plain:.2f}×")

    rp = recall_precision(d.samples, truth)
    print(f"detection at {detector.width}×{detector.height}: recall ≥40 px {rp['recall_40px']:.3f}, "
          f"30–39 px {rp['recall_30px']:.3f}, precision {rp['precision']:.3f}")
    extra: dict[str, float] = {}
    if args.compare:
        small = detect_faces(src, d.info, CenterFace.for_side(960), DetectParams(max_side=960))
        rs = recall_precision(small.samples, truth)
        print(f"detection at 960×544: recall ≥40 px {rs['recall_40px']:.3f}, 30–39 px {rs['recall_30px']:.3f}, "
              f"precision {rs['precision']:.3f}")
        extra = {"recall_30px_960": round(rs["recall_30px"], 3), "precision_960": round(rs["precision"], 3)}
    print(json.dumps({"x_realtime_1080p": round(seconds / total, 3), "vs_ffmpeg_render": round(ours / plain, 3),
                      **{k: round(v, 3) for k, v in rp.items()}, "seconds": seconds, "wall_s": round(total, 2),
                      "cpu_s_per_video_s": round(cpu / seconds, 3), "stride": params.stride,
                      "detect_side": DETECT_SIDE, "preset": RenderParams.preset, **extra,
                      "load_avg_1m_before": round(load0, 2), "load_avg_1m_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
