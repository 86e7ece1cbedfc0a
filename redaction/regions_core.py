"""The region list: what a redaction hides, when, and how — pure, stdlib only.

This module imports nothing but the standard library, so the verifier that ships inside disclosure
bags (``redaction/verifier.py``) can carry the very same code: the render and the check evaluate one
definition of "which pixels were redacted in frame *i*".

Document (all numbers are integers, so the canonical form is plain sorted-key JSON; it equals the
RFC 8785 form for such documents)::

    {"format": "liuhen-redaction-regions", "version": 1,
     "media": {"kind": "video"|"photo", "width": W, "height": H, "fps": [num, den], "frames": N},
     "regions": [{"id": "face-0001", "kind": "face"|"manual", "mode": "hide"|"keep",
                  "method": "blur"|"pixelate"|"fill", "unit": "frame"|"ms", "pad_pct": 20,
                  "keys": [[t, x, y, w, h], ...]}],
     "audio": [{"t0_ms": 0, "t1_ms": 1500, "action": "mute"|"tone"}]}

A region is active for frames whose time ``t`` (frame index for ``unit: frame``; for ``unit: ms``
the frame's start ``floor(i * 1000 * den / num)``) lies within ``keys[0][0] <= t <= keys[-1][0]``.
Between two keys the box moves linearly: ``v = v0 + (v1 - v0) * (t - t0) // (t1 - t0)`` (Python floor
division) for each of x, y, w, h. The applied rectangle is the box grown by ``pad_pct`` % of its
width/height on every side, widened outward to even coordinates (4:2:0 chroma) and clipped to the frame.
``mode: keep`` means "hide everything except this box" while it is active. Photos have one frame, time 0.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

FORMAT = "liuhen-redaction-regions"
VERSION = 1
METHODS = ("blur", "pixelate", "fill")
MODES = ("hide", "keep")
UNITS = ("frame", "ms")
AUDIO_ACTIONS = ("mute", "tone")

Rect = tuple[int, int, int, int]  # x, y, w, h


class RegionsInvalid(ValueError):
    """The region document is malformed (the message names the field)."""


def canonical(doc: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8 — RFC 8785 for an all-integer, ASCII-keyed document."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(doc: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(doc)).hexdigest()


def _int(v: Any, where: str, *, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise RegionsInvalid(f"{where}: expected an integer, got {v!r}")
    if minimum is not None and v < minimum:
        raise RegionsInvalid(f"{where}: {v} is below {minimum}")
    return v


def _choice(v: Any, allowed: tuple[str, ...], where: str) -> str:
    if v not in allowed:
        raise RegionsInvalid(f"{where}: {v!r} is not one of {', '.join(allowed)}")
    return str(v)


def _check_media(media: Any) -> None:
    if not isinstance(media, dict):
        raise RegionsInvalid("media: expected an object")
    _choice(media.get("kind"), ("video", "photo"), "media.kind")
    for k in ("width", "height", "frames"):
        _int(media.get(k), f"media.{k}", minimum=1)
    fps = media.get("fps")
    if not isinstance(fps, list) or len(fps) != 2:
        raise RegionsInvalid("media.fps: expected [num, den]")
    _int(fps[0], "media.fps[0]", minimum=1)
    _int(fps[1], "media.fps[1]", minimum=1)


def _check_region(i: int, r: Any) -> None:
    where = f"regions[{i}]"
    if not isinstance(r, dict):
        raise RegionsInvalid(f"{where}: expected an object")
    if not isinstance(r.get("id"), str) or not r["id"]:
        raise RegionsInvalid(f"{where}.id: expected a non-empty string")
    _choice(r.get("kind"), ("face", "manual"), f"{where}.kind")
    _choice(r.get("mode"), MODES, f"{where}.mode")
    _choice(r.get("method"), METHODS, f"{where}.method")
    _choice(r.get("unit"), UNITS, f"{where}.unit")
    _int(r.get("pad_pct"), f"{where}.pad_pct", minimum=0)
    keys = r.get("keys")
    if not isinstance(keys, list) or not keys:
        raise RegionsInvalid(f"{where}.keys: expected a non-empty list of [t, x, y, w, h]")
    last = None
    for j, k in enumerate(keys):
        if not isinstance(k, list) or len(k) != 5:
            raise RegionsInvalid(f"{where}.keys[{j}]: expected [t, x, y, w, h]")
        t = _int(k[0], f"{where}.keys[{j}].t", minimum=0)
        _int(k[1], f"{where}.keys[{j}].x")
        _int(k[2], f"{where}.keys[{j}].y")
        _int(k[3], f"{where}.keys[{j}].w", minimum=1)
        _int(k[4], f"{where}.keys[{j}].h", minimum=1)
        if last is not None and t <= last:
            raise RegionsInvalid(f"{where}.keys[{j}]: time {t} not after {last}")
        last = t


def validate(doc: Any) -> dict[str, Any]:
    """Return ``doc`` if it is a well-formed region document, else raise ``RegionsInvalid``."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RegionsInvalid(f"format: expected {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise RegionsInvalid(f"version: expected {VERSION}, got {doc.get('version')!r}")
    _check_media(doc.get("media"))
    regions = doc.get("regions")
    if not isinstance(regions, list):
        raise RegionsInvalid("regions: expected a list")
    ids: set[str] = set()
    for i, r in enumerate(regions):
        _check_region(i, r)
        if r["id"] in ids:
            raise RegionsInvalid(f"regions[{i}].id: duplicate {r['id']!r}")
        ids.add(r["id"])
    audio = doc.get("audio")
    if not isinstance(audio, list):
        raise RegionsInvalid("audio: expected a list")
    for i, a in enumerate(audio):
        if not isinstance(a, dict):
            raise RegionsInvalid(f"audio[{i}]: expected an object")
        t0 = _int(a.get("t0_ms"), f"audio[{i}].t0_ms", minimum=0)
        t1 = _int(a.get("t1_ms"), f"audio[{i}].t1_ms", minimum=0)
        if t1 <= t0:
            raise RegionsInvalid(f"audio[{i}]: t1_ms {t1} not after t0_ms {t0}")
        _choice(a.get("action"), AUDIO_ACTIONS, f"audio[{i}].action")
    return doc


def frame_time_ms(media: dict[str, Any], index: int) -> int:
    """Start of frame ``index`` in whole milliseconds (0 for photos)."""
    if media["kind"] == "photo":
        return 0
    num, den = media["fps"]
    return int(index * 1000 * den // num)


def box_at(region: dict[str, Any], t: int) -> Rect | None:
    """The region's (unpadded) box at time ``t`` in its own unit, or None when inactive."""
    keys = region["keys"]
    if t < keys[0][0] or t > keys[-1][0]:
        return None
    for k0, k1 in itertools.pairwise(keys):
        if k0[0] <= t <= k1[0]:
            span, d = k1[0] - k0[0], t - k0[0]
            x, y, w, h = (k0[i] + (k1[i] - k0[i]) * d // span for i in range(1, 5))
            return (x, y, w, h)
    k = keys[-1]
    return (k[1], k[2], k[3], k[4])


def padded(box: Rect, pad_pct: int, width: int, height: int) -> Rect | None:
    """Grow by ``pad_pct`` % per side, widen to even coordinates, clip; None if nothing is left."""
    x, y, w, h = box
    px, py = w * pad_pct // 100, h * pad_pct // 100
    x0, y0, x1, y1 = x - px, y - py, x + w + px, y + h + py
    x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
    x1, y1 = min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def active(doc: dict[str, Any], index: int) -> list[tuple[dict[str, Any], Rect]]:
    """Every region active in frame ``index`` with its final (padded, clipped) rectangle."""
    media = doc["media"]
    ms = frame_time_ms(media, index)
    out: list[tuple[dict[str, Any], Rect]] = []
    for r in doc["regions"]:
        t = 0 if media["kind"] == "photo" and r["unit"] == "frame" else (index if r["unit"] == "frame" else ms)
        if media["kind"] == "photo" and r["unit"] == "ms":
            t = r["keys"][0][0]
        box = box_at(r, t)
        if box is None:
            continue
        rect = padded(box, r["pad_pct"], media["width"], media["height"])
        if rect is not None:
            out.append((r, rect))
    return out


def audio_ranges(doc: dict[str, Any], action: str | None = None) -> list[tuple[int, int]]:
    """(t0_ms, t1_ms) of the audio ranges, optionally only those with ``action``."""
    return [(a["t0_ms"], a["t1_ms"]) for a in doc["audio"] if action is None or a["action"] == action]
