"""Check a redacted copy against its original and region list. Needs only Python 3.11, numpy and ffmpeg.

Ships inside disclosure bags as ``verify_redaction.py`` (``bag_script()`` in ``liuhen.redaction.bagscript``
inlines ``regions_core`` so the bag copy is one file). Usage::

    python verify_redaction.py ORIGINAL REDACTED REGIONS.json [--json] [--ffmpeg PATH]

Both videos are decoded to 8-bit luma, frame by frame (frame *i* of one against frame *i* of the other):

- outside: every 16×16 tile farther than ``MARGIN`` px from any redacted area must have
  PSNR ≥ ``PSNR_MIN_DB`` (the re-encode may not change what was not redacted — a tampered block fails);
- inside: each hidden rectangle (≥ 8×8 px) must have mean SSIM ≤ ``SSIM_MAX`` against the original
  over the 7×7 windows where the original has structure (local std ≥ ``STRUCTURE_STD``; flat areas
  hide nothing); for "keep" regions the same holds for everything outside the kept box;
- audio (mono, 16 kHz): every 100 ms window ≥ 50 ms away from a muted/toned range must correlate
  ≥ ``AUDIO_CORR_MIN`` with the original (or both be silent); muted windows must be below ``MUTE_MAX_DBFS``;
  toned windows must correlate < 0.3 with the original.

Exit status 0 when everything holds; 1 with the first failing frame named; 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liuhen.redaction.regions_core import RegionsInvalid, active, audio_ranges, digest, validate

PSNR_MIN_DB = 22.0
SSIM_MAX = 0.5
STRUCTURE_STD = 4.0
MARGIN = 16
TILE = 16
AUDIO_RATE = 16000
AUDIO_WIN = 1600  # 100 ms
AUDIO_GUARD_MS = 50
AUDIO_CORR_MIN = 0.9
MUTE_MAX_DBFS = -60.0
SILENT_DBFS = -50.0


@dataclass
class Report:
    ok: bool
    regions_digest: str
    frames: int = 0
    failures: list[str] = field(default_factory=list)
    min_outside_psnr_db: float | None = None
    max_inside_ssim: float | None = None
    audio_windows_checked: int = 0
    bounds: dict[str, float] = field(default_factory=dict)


def find_ffmpeg(explicit: str | None = None) -> str:
    for cand in (explicit, os.environ.get("LIUHEN_FFMPEG"), shutil.which("ffmpeg")):
        if cand:
            return cand
    try:
        import imageio_ffmpeg  # optional: the Liuhen install has it

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except ImportError as exc:
        raise SystemExit("ffmpeg not found: pass --ffmpeg PATH or put ffmpeg on PATH") from exc


def gray_frames(ffmpeg: str, path: Path, width: int, height: int) -> Iterator[np.ndarray]:
    """Decoded luma frames (uint8 H×W), every frame, no rate conversion."""
    argv = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    size = width * height
    assert proc.stdout is not None
    try:
        while True:
            buf = proc.stdout.read(size)
            if len(buf) < size:
                break
            yield np.frombuffer(buf, np.uint8).reshape(height, width)
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()


def audio_pcm(ffmpeg: str, path: Path) -> np.ndarray | None:
    argv = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0?", "-ac", "1",
            "-ar", str(AUDIO_RATE), "-f", "s16le", "-"]
    out = subprocess.run(argv, capture_output=True, check=False, timeout=3600)
    if out.returncode != 0 or not out.stdout:
        return None
    return np.frombuffer(out.stdout, np.int16).astype(np.float64) / 32768.0


def _box_mean(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over every k×k window (valid positions only), by summed-area table."""
    s = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / (k * k)


def ssim_map(a: np.ndarray, b: np.ndarray, k: int = 7) -> np.ndarray:
    """SSIM per k×k window (Wang et al. 2004 constants, uniform window) of two equal-shape uint8 images."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _box_mean(x, k), _box_mean(y, k)
    vx = _box_mean(x * x, k) - mx * mx
    vy = _box_mean(y * y, k) - my * my
    cxy = _box_mean(x * y, k) - mx * my
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim(a: np.ndarray, b: np.ndarray, k: int = 7, where: np.ndarray | None = None) -> float | None:
    """Mean SSIM over the k×k windows where the original ``a`` has structure (local std ≥ STRUCTURE_STD).

    Windows that were flat in the original carry nothing to hide (a blurred wall stays a wall), so they
    do not count; None when the original area has no structure at all. ``where`` (same shape as the
    images) limits the windows to those whose top-left pixel is set.
    """
    if a.shape[0] < k or a.shape[1] < k:
        return None
    m = ssim_map(a, b, k)
    x = a.astype(np.float64)
    mx = _box_mean(x, k)
    structured = (_box_mean(x * x, k) - mx * mx) >= STRUCTURE_STD**2
    if where is not None:
        structured &= where[: m.shape[0], : m.shape[1]]
    return float(m[structured].mean()) if structured.any() else None


def tile_psnr(a: np.ndarray, b: np.ndarray, checked: np.ndarray) -> tuple[float, tuple[int, int] | None]:
    """Lowest PSNR (dB) over checked TILE×TILE tiles and its tile's (x, y); inf if none differ."""
    h, w = (a.shape[0] // TILE) * TILE, (a.shape[1] // TILE) * TILE
    d = a[:h, :w].astype(np.float64) - b[:h, :w].astype(np.float64)
    mse = (d * d).reshape(h // TILE, TILE, w // TILE, TILE).mean(axis=(1, 3))
    mse = np.where(checked, mse, 0.0)
    worst = np.unravel_index(int(np.argmax(mse)), mse.shape)
    m = float(mse[worst])
    if m == 0.0:
        return float("inf"), None
    return 10 * np.log10(255.0 * 255.0 / m), (int(worst[1]) * TILE, int(worst[0]) * TILE)


def changed_mask(doc: dict[str, Any], index: int) -> tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]],
                                                         list[tuple[int, int, int, int]]]:
    """Boolean mask of pixels the redaction may change, the hidden rects and the kept rects of a frame."""
    media = doc["media"]
    mask = np.zeros((media["height"], media["width"]), bool)
    hides: list[tuple[str, tuple[int, int, int, int]]] = []
    keeps: list[tuple[int, int, int, int]] = []
    for region, (x, y, w, h) in active(doc, index):
        if region["mode"] == "keep":
            keeps.append((x, y, w, h))
        else:
            hides.append((region["id"], (x, y, w, h)))
            mask[y:y + h, x:x + w] = True
    if keeps:
        keep = np.zeros_like(mask)
        for x, y, w, h in keeps:
            keep[y:y + h, x:x + w] = True
        mask |= ~keep
    return mask, hides, keeps


def _checked_tiles(mask: np.ndarray) -> np.ndarray:
    h, w = (mask.shape[0] // TILE) * TILE, (mask.shape[1] // TILE) * TILE
    grown = mask.copy()
    if mask.any():
        # grow by MARGIN with a summed-area test (any changed pixel within MARGIN)
        s = np.pad(mask.astype(np.int32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        yy, xx = np.arange(mask.shape[0]), np.arange(mask.shape[1])
        y0, y1 = np.clip(yy - MARGIN, 0, mask.shape[0]), np.clip(yy + MARGIN + 1, 0, mask.shape[0])
        x0, x1 = np.clip(xx - MARGIN, 0, mask.shape[1]), np.clip(xx + MARGIN + 1, 0, mask.shape[1])
        grown = (s[y1][:, x1] - s[y0][:, x1] - s[y1][:, x0] + s[y0][:, x0]) > 0
    return np.logical_not(grown[:h, :w].reshape(h // TILE, TILE, w // TILE, TILE).any(axis=(1, 3)))


def check_frame(doc: dict[str, Any], i: int, a: np.ndarray, b: np.ndarray, rep: Report) -> None:
    mask, hides, keeps = changed_mask(doc, i)
    psnr, at = tile_psnr(a, b, _checked_tiles(mask))
    if psnr != float("inf"):
        rep.min_outside_psnr_db = psnr if rep.min_outside_psnr_db is None else min(rep.min_outside_psnr_db, psnr)
    if psnr < PSNR_MIN_DB and at is not None:
        rep.failures.append(f"frame {i}: outside the regions the tile at x={at[0]},y={at[1]} differs "
                            f"(PSNR {psnr:.1f} dB < {PSNR_MIN_DB} dB)")
    for rid, (x, y, w, h) in hides:
        if w < 8 or h < 8:
            continue
        s = ssim(a[y:y + h, x:x + w], b[y:y + h, x:x + w])
        if s is None:
            continue
        rep.max_inside_ssim = s if rep.max_inside_ssim is None else max(rep.max_inside_ssim, s)
        if s > SSIM_MAX:
            rep.failures.append(f"frame {i}: region {rid} at x={x},y={y},w={w},h={h} is not hidden "
                                f"(SSIM {s:.2f} > {SSIM_MAX})")
    if keeps:
        outside_keep = mask.copy()
        for _rid, (x, y, w, h) in hides:
            outside_keep[y:y + h, x:x + w] = True
        s_out = ssim(a, b, where=outside_keep)
        if s_out is not None:
            rep.max_inside_ssim = s_out if rep.max_inside_ssim is None else max(rep.max_inside_ssim, s_out)
            if s_out > SSIM_MAX:
                rep.failures.append(f"frame {i}: outside the kept box the picture is not hidden "
                                    f"(SSIM {s_out:.2f} > {SSIM_MAX})")


def _dbfs(x: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else -200.0


def _near(t0: int, t1: int, ranges: list[tuple[int, int]], guard: int) -> bool:
    return any(t0 < b + guard and t1 > a - guard for a, b in ranges)


def _inside(t0: int, t1: int, ranges: list[tuple[int, int]], guard: int) -> bool:
    return any(t0 >= a + guard and t1 <= b - guard for a, b in ranges)


def check_audio(doc: dict[str, Any], orig: np.ndarray | None, red: np.ndarray | None, rep: Report) -> None:
    if orig is None:
        if red is not None and _dbfs(red) > MUTE_MAX_DBFS:
            rep.failures.append("audio: the original has no audio but the redacted copy does")
        return
    if red is None:
        rep.failures.append("audio: the redacted copy has no audio track")
        return
    mutes, tones, every = audio_ranges(doc, "mute"), audio_ranges(doc, "tone"), audio_ranges(doc)
    n = min(orig.size, red.size) // AUDIO_WIN
    for w in range(n):
        a, b = orig[w * AUDIO_WIN:(w + 1) * AUDIO_WIN], red[w * AUDIO_WIN:(w + 1) * AUDIO_WIN]
        t0, t1 = w * 100, (w + 1) * 100
        rep.audio_windows_checked += 1
        if _inside(t0, t1, mutes, AUDIO_GUARD_MS):
            if _dbfs(b) > MUTE_MAX_DBFS:
                rep.failures.append(f"audio {t0}-{t1} ms: muted range is {_dbfs(b):.1f} dBFS > {MUTE_MAX_DBFS}")
        elif _inside(t0, t1, tones, AUDIO_GUARD_MS):
            if _corr(a, b) >= 0.3 and _dbfs(a) > SILENT_DBFS:
                rep.failures.append(f"audio {t0}-{t1} ms: toned range still carries the original sound")
        elif not _near(t0, t1, every, AUDIO_GUARD_MS):
            if max(_dbfs(a), _dbfs(b)) > SILENT_DBFS and _corr(a, b) < AUDIO_CORR_MIN:
                rep.failures.append(f"audio {t0}-{t1} ms: differs from the original outside the muted ranges "
                                    f"(correlation {_corr(a, b):.2f} < {AUDIO_CORR_MIN})")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    da, db = a - a.mean(), b - b.mean()
    den = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / den) if den > 0 else 0.0


def verify(original: Path, redacted: Path, doc: dict[str, Any], *, ffmpeg: str | None = None) -> Report:
    """Run every check; ``Report.ok`` is False with ``failures`` naming frames/windows when any fails."""
    validate(doc)
    exe = find_ffmpeg(ffmpeg)
    media = doc["media"]
    rep = Report(ok=False, regions_digest=digest(doc),
                 bounds={"psnr_min_db": PSNR_MIN_DB, "ssim_max": SSIM_MAX, "margin_px": MARGIN,
                         "audio_corr_min": AUDIO_CORR_MIN, "mute_max_dbfs": MUTE_MAX_DBFS})
    fa = gray_frames(exe, original, media["width"], media["height"])
    fb = gray_frames(exe, redacted, media["width"], media["height"])
    for i, (a, b) in enumerate(zip(fa, fb, strict=False)):
        check_frame(doc, i, a, b, rep)
        rep.frames = i + 1
    n_orig = rep.frames + sum(1 for _ in fa)
    n_red = rep.frames + sum(1 for _ in fb)
    if n_orig != n_red or n_orig != media["frames"]:
        rep.failures.append(f"frame count: original {n_orig}, redacted {n_red}, region list {media['frames']}")
    if media["kind"] == "video":
        check_audio(doc, audio_pcm(exe, original), audio_pcm(exe, redacted), rep)
    rep.ok = not rep.failures
    return rep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Check a redacted copy against its original and region list.")
    p.add_argument("original", type=Path)
    p.add_argument("redacted", type=Path)
    p.add_argument("regions", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--ffmpeg")
    args = p.parse_args(argv)
    try:
        doc = json.loads(args.regions.read_text("utf-8"))
        rep = verify(args.original, args.redacted, doc, ffmpeg=args.ffmpeg)
    except (OSError, ValueError, RegionsInvalid) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(asdict(rep)))
    else:
        state = "OK" if rep.ok else "FAILED"
        psnr = "n/a" if rep.min_outside_psnr_db is None else f"{rep.min_outside_psnr_db:.1f} dB"
        ss = "n/a" if rep.max_inside_ssim is None else f"{rep.max_inside_ssim:.2f}"
        print(f"{state}: {rep.frames} frames, regions sha256 {rep.regions_digest}, "
              f"min outside PSNR {psnr} (bound {PSNR_MIN_DB}), max inside SSIM {ss} (bound {SSIM_MAX})")
        for f in rep.failures[:20]:
            print(f"  {f}")
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
