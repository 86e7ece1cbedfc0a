"""A quick look at the staged copy: does the container open, and does the first frame decode?

This is only for flags on the receipt (truncated/undecodable media). The file is stored byte for byte
whatever this says — evidence is never dropped for being corrupt. Full probing is the transcoder's job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuickProbe:
    ok: bool
    duration_s: float | None = None
    problem: str | None = None  # "truncated" or "undecodable"
    detail: str | None = None


def structure_problem(path: Path, ext: str | None = None) -> str | None:
    """Cheap container-structure check: does the file end where its own headers say it ends?

    MP4/MOV/M4A: top-level boxes must tile the file exactly and include ``moov`` (a recorder that
    lost power leaves a box cut short or no ``moov``). WAV/AVI: the RIFF size must match. JPEG: the
    file must end with the EOI marker.
    """
    ext = (ext or path.suffix).lower().lstrip(".")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if ext in ("mp4", "mov", "m4a") or head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
            pos, seen = 0, set()
            while pos < size:
                f.seek(pos)
                h = f.read(16)
                if len(h) < 8:
                    return f"truncated box header at byte {pos}"
                n = int.from_bytes(h[:4], "big")
                typ = h[4:8]
                if n == 1:
                    if len(h) < 16:
                        return f"truncated box header at byte {pos}"
                    n = int.from_bytes(h[8:16], "big")
                elif n == 0:
                    n = size - pos
                if n < 8:
                    return f"invalid box size {n} at byte {pos}"
                if pos + n > size:
                    return f"box {typ.decode('latin-1')!r} at byte {pos} needs {n} bytes, file ends {size - pos} later"
                seen.add(typ)
                pos += n
            if b"moov" not in seen:
                return "no moov box (recording not finalised)"
            return None
        if head[:4] == b"RIFF":
            declared = int.from_bytes(head[4:8], "little") + 8
            if declared > size:
                return f"RIFF header declares {declared} bytes, file has {size}"
            return None
        if head[:2] == b"\xff\xd8":
            f.seek(max(0, size - 2))
            if f.read(2) != b"\xff\xd9":
                return "JPEG without end-of-image marker"
    return None


def quick_probe(path: Path, kind: str, ext: str | None = None) -> QuickProbe:
    """Check the container structure, open ``path`` with PyAV and decode one frame."""
    if kind == "unknown":
        return QuickProbe(ok=True)
    try:
        why = structure_problem(path, ext)
    except OSError as exc:
        why = f"cannot read: {exc}"
    if why:
        return QuickProbe(ok=False, problem="truncated", detail=why)
    try:
        import av
    except ImportError:  # pragma: no cover - av is a dependency
        return QuickProbe(ok=True, detail="PyAV unavailable; not probed")
    size = path.stat().st_size
    if size == 0:
        return QuickProbe(ok=False, problem="truncated", detail="zero-byte file")
    try:
        with av.open(str(path), options={"probesize": "2000000", "analyzeduration": "1000000"}) as c:
            duration = c.duration / 1_000_000 if c.duration else None
            streams = [s for s in c.streams if s.type in ("video", "audio")]
            if not streams:
                return QuickProbe(ok=False, duration_s=duration, problem="undecodable", detail="no audio/video stream")
            s = streams[0]
            for frame in c.decode(s):
                del frame
                break
            else:
                return QuickProbe(ok=False, duration_s=duration, problem="truncated", detail="no decodable frame")
            if kind == "video" and duration is None:
                return QuickProbe(ok=False, problem="truncated", detail="container has no duration")
            return QuickProbe(ok=True, duration_s=duration)
    except Exception as exc:  # av.error.* and friends
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        problem = "truncated" if "moov" in msg or "End of file" in msg or "Invalid data" in msg else "undecodable"
        return QuickProbe(ok=False, problem=problem, detail=msg)
