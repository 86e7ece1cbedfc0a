"""Transcoder benchmark: ``python -m benchmarks.transcode [--quick]``.

On ffmpeg-made 1080p30 H.264 (8 Mbps) and HEVC clips, in one run:
(a) remux path (our planned argv, via our runner): × realtime;
(b) transcode path: our runner (ffmpeg-python argv, rlimits, timeout) vs the plain ffmpeg CLI with the
    identical argv, interleaved — overhead = ours / plain − 1 (target ≤ 5 %);
(c) fingerprinting: × realtime, vs the keyframe-decode limit (PyAV decode of keyframes only, nothing
    else; target ≥ 0.8×) and vs the ``videohash`` package (speed; whether each matches a 10 s 480p excerpt).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from liuhen.core.config import Settings
from liuhen.core.media import ffmpeg_exe, make_video
from liuhen.transcoder import tool
from liuhen.transcoder.fingerprint import fingerprint
from liuhen.transcoder.match import best_offset
from liuhen.transcoder.probe import probe
from liuhen.transcoder.proxy import plan_proxy
from liuhen.transcoder.settings import TranscoderSettings

CACHE = Path(os.environ.get("LIUHEN_BENCH_DIR", tempfile.gettempdir())) / "liuhen-bench-transcode"


def _clips(quick: bool) -> dict[str, Path]:
    h_s, v_s = (12, 2) if quick else (30, 10)
    h264 = CACHE / f"h264_1080p_{h_s}s.mp4"
    hevc = CACHE / f"hevc_1080p_{v_s}s.mp4"
    excerpt = CACHE / f"excerpt_480p_{h_s}s.mp4"
    if not h264.exists():
        make_video(h264, seconds=h_s, width=1920, height=1080, bitrate="8M", seed=11)
    if not hevc.exists():
        make_video(hevc, seconds=v_s, codec="hevc", width=1920, height=1080, bitrate="8M", seed=12)
    if not excerpt.exists():
        start, length = (1, 10) if quick else (12, 10)
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-ss",
                str(start),
                "-i",
                str(h264),
                "-t",
                str(length),
                "-vf",
                "scale=-2:480",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "28",
                "-an",
                str(excerpt),
            ],
            check=True,
        )
    return {"h264": h264, "hevc": hevc, "excerpt": excerpt}


def _time(fn, reps: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _videohash(clips: dict[str, Path], reps: int) -> dict[str, object]:
    try:
        from PIL import Image

        if not hasattr(Image, "ANTIALIAS"):  # videohash 3.0.1 predates Pillow 10's removal of the alias
            Image.ANTIALIAS = Image.LANCZOS  # type: ignore[attr-defined]
        from videohash import VideoHash
    except Exception as exc:  # not installable here
        return {"available": False, "why": f"videohash not importable: {exc}"}
    bindir = CACHE / "bin"
    bindir.mkdir(exist_ok=True)
    link = bindir / "ffmpeg"
    if not link.exists():
        link.symlink_to(ffmpeg_exe())
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"  # videohash calls `ffmpeg`
    hashes = {}

    def run() -> None:
        hashes["orig"] = VideoHash(path=str(clips["h264"]))

    try:
        times = _time(run, reps)
        hashes["excerpt"] = VideoHash(path=str(clips["excerpt"]))
    except Exception as exc:
        return {"available": False, "why": f"videohash failed: {type(exc).__name__}: {exc}"}
    dist = hashes["orig"] - hashes["excerpt"]
    return {
        "available": True,
        "seconds": statistics.median(times),
        "excerpt_distance": int(dist),
        "matches_excerpt": bool(hashes["orig"].is_similar(hashes["excerpt"])),
        "version": _ver("videohash"),
    }


def _ver(pkg: str) -> str:
    from importlib.metadata import version

    try:
        return version(pkg)
    except Exception:
        return "?"


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short clips, fewer repetitions (< 60 s)")
    args = ap.parse_args(argv)
    reps = 2 if args.quick else 3
    clips = _clips(args.quick)
    s, ts = Settings(), TranscoderSettings()
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-"))

    # (a) remux
    info_h = probe(clips["h264"], ts)
    remux = plan_proxy(info_h, s, ts)
    assert remux.mode == "remux"
    remux_argv = tool.concrete(remux.argv, clips["h264"], work / "remux.mp4")
    t_remux = statistics.median(_time(lambda: tool.run(remux_argv, timeout_s=600, rlimit_as_mb=ts.rlimit_as_mb), reps))
    remux_x = info_h.duration_s / t_remux

    # (b) transcode, ours vs plain CLI with the identical argv, interleaved
    info_v = probe(clips["hevc"], ts)
    step = plan_proxy(info_v, s, ts)
    assert step.mode == "transcode"
    argv = tool.concrete(step.argv, clips["hevc"], work / "proxy.mp4")
    ours, plain = [], []
    for _ in range(reps):
        ours += _time(lambda: tool.run(argv, timeout_s=600, rlimit_as_mb=ts.rlimit_as_mb), 1)
        plain += _time(lambda: subprocess.run(argv, check=True, capture_output=True), 1)
    t_ours, t_plain = statistics.median(ours), statistics.median(plain)
    overhead = t_ours / t_plain - 1

    # (c) fingerprint vs keyframe-decode limit (same run) and vs videohash
    import av

    def decode_limit() -> None:
        with av.open(str(clips["h264"])) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            st.codec_context.skip_frame = "NONKEY"
            for _ in c.decode(st):
                pass

    fps_ = {}
    t_limit, t_fp = [], []
    for _ in range(reps):
        t_limit += _time(decode_limit, 1)
        t_fp += _time(lambda: fps_.__setitem__("orig", fingerprint(clips["h264"])), 1)
    t_limit_m, t_fp_m = statistics.median(t_limit), statistics.median(t_fp)
    fp_x = info_h.duration_s / t_fp_m
    q = fingerprint(clips["excerpt"])
    got = best_offset(q, fps_["orig"].seconds, fps_["orig"].hashes)
    expected_off = 1 if args.quick else 12
    ours_match = got is not None and got[1] <= 10 and abs(got[0] - expected_off) <= 1
    vh = _videohash(clips, 1 if args.quick else 2)
    vs_vh = (vh["seconds"] / t_fp_m) if vh.get("available") else None  # type: ignore[operator]

    mb = {k: round(p.stat().st_size / 1e6, 1) for k, p in clips.items()}
    rows = [
        (
            "input",
            f"H.264 1080p30 8 Mbps {info_h.duration_s:.0f} s ({mb['h264']} MB); HEVC 1080p30 "
            f"{info_v.duration_s:.0f} s ({mb['hevc']} MB); excerpt 10 s 480p",
        ),
        ("(a) remux (median)", f"{t_remux:.3f} s = {remux_x:.0f}x realtime"),
        ("(b) transcode ours / plain CLI", f"{t_ours:.2f} s / {t_plain:.2f} s = overhead {overhead * 100:+.1f} %"),
        ("(c) fingerprint", f"{t_fp_m:.3f} s = {fp_x:.0f}x realtime ({fps_['orig'].mode}, {len(fps_['orig'])} h)"),
        ("    keyframe-decode limit", f"{t_limit_m:.3f} s -> fingerprint at {t_limit_m / t_fp_m:.2f}x of limit"),
        (
            "    ours matches excerpt",
            f"{ours_match} (offset {got[0] if got else None}, mean distance {got[1] if got else None:.1f})"
            if got
            else "False",
        ),
    ]
    if vh.get("available"):
        rows += [
            (f"    videohash {vh['version']}", f"{vh['seconds']:.2f} s -> ours {vs_vh:.1f}x faster"),
            ("    videohash matches excerpt", f"{vh['matches_excerpt']} (distance {vh['excerpt_distance']})"),
        ]
    else:
        rows.append(("    videohash", str(vh["why"])))
    w = max(len(r[0]) for r in rows)
    print(
        f"transcoder benchmark ({'quick' if args.quick else 'full'}; ffmpeg {tool.ffmpeg_version()}, "
        f"PyAV {av.__version__}, {os.cpu_count()} cores)"
    )
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")
    result = {
        "remux_x_realtime": round(remux_x, 1),
        "transcode_overhead": round(overhead, 4),
        "fingerprint_vs_decode_limit": round(t_limit_m / t_fp_m, 3),
        "fingerprint_vs_videohash": round(vs_vh, 2) if vs_vh else None,
        "fingerprint_x_realtime": round(fp_x, 1),
        "fingerprint_matches_excerpt": ours_match,
        "videohash_matches_excerpt": vh.get("matches_excerpt"),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
