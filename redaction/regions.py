"""Building and editing region documents: CLI/API specs → regions, canonical form and digest.

The document format and its evaluation live in ``regions_core`` (stdlib only; shipped in bags).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from liuhen.redaction.errors import RegionSpecInvalid
from liuhen.redaction.regions_core import (
    FORMAT,
    METHODS,
    VERSION,
    RegionsInvalid,
    canonical,
    digest,
    validate,
)

__all__ = ["build", "canonical", "digest", "load", "manual_region", "mute_range", "parse_box_spec",
           "parse_range", "parse_time_ms", "remove", "validated"]

_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d{1,3})?)$")


def parse_time_ms(text: str) -> int:
    """``12``, ``12.5``, ``1:02.250`` or ``1:00:02`` → milliseconds (exact, no float rounding)."""
    m = _TIME.match(text.strip())
    if not m:
        raise RegionSpecInvalid(f"time {text!r}: expected seconds (12.5) or [h:]m:s")
    parts = [p for p in m.groups() if p is not None]
    sec, _, frac = parts[-1].partition(".")
    ms = int(sec) * 1000 + int((frac + "000")[:3])
    mult = 60_000
    for p in reversed(parts[:-1]):
        ms += int(p) * mult
        mult *= 60
    return ms


def parse_range(text: str) -> tuple[int, int]:
    """``T0-T1`` → (t0_ms, t1_ms), t1 after t0."""
    a, sep, b = text.partition("-")
    if not sep:
        raise RegionSpecInvalid(f"time range {text!r}: expected T0-T1")
    t0, t1 = parse_time_ms(a), parse_time_ms(b)
    if t1 <= t0:
        raise RegionSpecInvalid(f"time range {text!r}: end is not after start")
    return t0, t1


def parse_box_spec(text: str) -> tuple[int, int, tuple[int, int, int, int]]:
    """``T0-T1:X,Y,W,H`` → (t0_ms, t1_ms, box)."""
    rng, sep, box = text.partition(":")
    if rng.count(":") or not sep:
        raise RegionSpecInvalid(f"region {text!r}: expected T0-T1:X,Y,W,H (times in seconds)")
    t0, t1 = parse_range(rng)
    try:
        x, y, w, h = (int(v) for v in box.split(","))
    except ValueError as exc:
        raise RegionSpecInvalid(f"region {text!r}: box must be four integers X,Y,W,H") from exc
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise RegionSpecInvalid(f"region {text!r}: box needs x, y ≥ 0 and w, h > 0")
    return t0, t1, (x, y, w, h)


def manual_region(rid: str, t0_ms: int, t1_ms: int, box: tuple[int, int, int, int], *,
                  method: str = "blur", mode: str = "hide", pad_pct: int = 0) -> dict[str, Any]:
    """A box held still from t0 to t1 (add more keys to move it)."""
    if method not in METHODS:
        raise RegionSpecInvalid(f"method {method!r}: expected one of {', '.join(METHODS)}")
    return {"id": rid, "kind": "manual", "mode": mode, "method": method, "unit": "ms", "pad_pct": pad_pct,
            "keys": [[t0_ms, *box], [t1_ms, *box]]}


def mute_range(t0_ms: int, t1_ms: int, action: str = "mute") -> dict[str, Any]:
    return {"t0_ms": t0_ms, "t1_ms": t1_ms, "action": action}


def build(media: dict[str, Any], regions: list[dict[str, Any]], audio: list[dict[str, Any]]) -> dict[str, Any]:
    """A validated region document."""
    return validated({"format": FORMAT, "version": VERSION, "media": media, "regions": regions, "audio": audio})


def validated(doc: Any) -> dict[str, Any]:
    try:
        return validate(doc)
    except RegionsInvalid as exc:
        raise RegionSpecInvalid(f"region list: {exc}") from exc


def load(path: Path) -> dict[str, Any]:
    try:
        return validated(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        if isinstance(exc, RegionSpecInvalid):
            raise
        raise RegionSpecInvalid(f"region list {path}: {exc}") from exc


def remove(doc: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """A copy without the regions named (e.g. a detection that is not a face, or a face that may be shown)."""
    missing = set(ids) - {r["id"] for r in doc["regions"]}
    if missing:
        raise RegionSpecInvalid(f"no region with id {', '.join(sorted(missing))}")
    return build(doc["media"], [r for r in doc["regions"] if r["id"] not in ids], doc["audio"])
