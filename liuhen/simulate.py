"""``liuhen simulate-dock``: lay out a dock with recorders holding real footage, as a recorder presents it.

Per recorder: H.264 High 1080p30 ~8 Mbps + AAC MP4 clips (most of the footage), and on some recorders
an HEVC MP4, a JPEG photo, a WAV audio note; recorder 1 also holds one truncated MP4 (power lost
mid-write); recorder 3's clock runs 5 minutes fast and its photo was taken 30 hours before docking.
See ``ingest.layout`` for the layout and the identity file.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from liuhen.core import media
from liuhen.ingest.layout import IDENTITY_FILE, media_name

CST = timezone(timedelta(hours=8))
OFFICERS = [("110101", "张伟"), ("110102", "王芳"), ("110103", "李娜"), ("110104", "刘洋"), ("110105", "陈静")]


@dataclass
class SimulatedRecorder:
    port: Path
    serial: str
    officer_no: str
    files: list[Path] = field(default_factory=list)


def simulate_dock(
    dock: Path,
    *,
    recorders: int = 3,
    minutes: float = 0.25,
    width: int = 1920,
    height: int = 1080,
    bitrate: str = "8M",
    clip_seconds: float = 8.0,
    start: datetime | None = None,
) -> list[SimulatedRecorder]:
    """Create ``recorders`` port directories under ``dock`` holding ``minutes`` of video each."""
    dock.mkdir(parents=True, exist_ok=True)
    start = start or (datetime.now(CST).replace(microsecond=0) - timedelta(hours=3))
    spec = _Spec(dock, recorders, minutes, width, height, bitrate, clip_seconds, start)
    # each recorder's footage is its own ffmpeg runs: one recorder per core at a time
    with ThreadPoolExecutor(max_workers=max(1, min(recorders, os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda r: _simulate_recorder(spec, r), range(recorders)))


@dataclass(frozen=True)
class _Spec:
    dock: Path
    recorders: int
    minutes: float
    width: int
    height: int
    bitrate: str
    clip_seconds: float
    start: datetime


def _simulate_recorder(spec: _Spec, r: int) -> SimulatedRecorder:
    """Port ``r`` of the dock: identity file and footage (see ``simulate_dock``)."""
    dock, recorders, minutes, start = spec.dock, spec.recorders, spec.minutes, spec.start
    width, height, bitrate, clip_seconds = spec.width, spec.height, spec.bitrate, spec.clip_seconds
    serial = f"DSJ-X7-{1001 + r:04d}"
    officer_no, officer_name = OFFICERS[r % len(OFFICERS)]
    port = dock / f"port{r + 1:02d}"
    media_dir = port / "DCIM" / "100MEDIA"
    media_dir.mkdir(parents=True, exist_ok=True)
    identity = {
        "device_serial": serial,
        "officer_no": officer_no,
        "officer_name": officer_name,
        "unit_code": "110101000000",
        "firmware": "V2.3.1",
        "utc_offset": "+08:00",
        # recorder 3's clock runs 5 minutes fast: the dock flags the drift
        "clock": (datetime.now(CST).replace(microsecond=0) + timedelta(minutes=5 if r == 2 else 0)).isoformat(),
    }
    (port / IDENTITY_FILE).write_text(json.dumps(identity, ensure_ascii=False, indent=2), encoding="utf-8")
    rec = SimulatedRecorder(port, serial, officer_no)
    t = start + timedelta(minutes=7 * r)
    seq = 1
    remaining = max(clip_seconds, minutes * 60)

    def name(ext: str, when: datetime, _d: Path = media_dir, _s: str = serial, _o: str = officer_no) -> Path:
        nonlocal seq
        p = _d / media_name(_s, _o, when.strftime("%Y%m%d%H%M%S"), seq, ext)
        seq += 1
        return p

    def stamp(p: Path, when: datetime, seconds: float = 0.0) -> None:
        # A recorder's file mtime is when it finished writing the file.
        ts = (when + timedelta(seconds=seconds)).astimezone(UTC).timestamp()
        os.utime(p, (ts, ts))

    while remaining > 0:
        secs = min(clip_seconds, remaining)
        p = media.make_video(
            name("MP4", t), seconds=secs, width=width, height=height, bitrate=bitrate, seed=31 * r + seq
        )
        stamp(p, t, secs)
        rec.files.append(p)
        t += timedelta(seconds=secs + 45)
        remaining -= secs
    if r % 3 == 1:
        secs = min(4.0, clip_seconds)
        p = media.make_video(
            name("MP4", t), seconds=secs, codec="hevc", width=width, height=height, bitrate="4M", seed=77 + r
        )
        stamp(p, t, secs)
        rec.files.append(p)
        t += timedelta(seconds=30)
    if r % 3 == 2 or recorders == 1:
        # a photo taken 30 hours ago and only docked now: a late upload (> 24 h)
        when = start - timedelta(hours=27) if r == 2 else t
        p = media.make_jpg(name("JPG", when), seed=5 + r, width=width, height=height)
        stamp(p, when)
        rec.files.append(p)
        t += timedelta(seconds=20)
    if r % 3 == 0:
        p = media.make_wav(name("WAV", t), seconds=3.0, freq=330 + 20 * r)
        stamp(p, t, 3.0)
        rec.files.append(p)
        t += timedelta(seconds=20)
    if r == 0:
        whole = media.make_video(
            media_dir / ".whole.tmp.mp4", seconds=4.0, width=width, height=height, bitrate=bitrate, seed=999
        )
        p = media.truncate_copy(whole, name("MP4", t))
        whole.unlink()
        stamp(p, t, 4.0)
        rec.files.append(p)
    return rec
