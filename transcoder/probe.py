"""Probe a media file with PyAV: container, streams, codecs, duration, size, rate, rotation, time, GPS.

Safety first: the claimed geometry/duration is checked against ``TranscoderSettings`` limits *before*
any frame is decoded, so a decompression bomb is rejected from its header. Then one frame is decoded
(proves the stream is decodable; gives the display rotation) and every packet is demuxed once (a
recorder that lost power leaves a file whose index promises more packets than the file holds).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av

from liuhen.transcoder.errors import MediaRejected, ProbeFailed, Truncated
from liuhen.transcoder.settings import TranscoderSettings, transcoder_settings

IMAGE_CODECS = frozenset({"mjpeg", "png", "webp", "bmp", "tiff", "gif", "jpegls", "jpeg2000", "heif", "av1"})
ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?/?$")


@dataclass
class StreamInfo:
    index: int
    type: str
    codec: str
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pix_fmt: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bit_rate: int | None = None
    frames: int | None = None
    duration_s: float | None = None


@dataclass
class MediaInfo:
    kind: str  # video | audio | photo
    container: str
    size: int
    duration_s: float | None
    streams: list[StreamInfo] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    rotation: int = 0
    creation_time: str | None = None
    gps: dict[str, float] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    packets: int = 0
    decodable_s: float | None = None  # end time of the last packet actually present (main stream)

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == "video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == "audio"), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_iso6709(text: str) -> dict[str, float] | None:
    m = ISO6709.match(text.strip())
    if not m:
        return None
    out = {"lat": float(m.group(1)), "lon": float(m.group(2))}
    if m.group(3):
        out["alt"] = float(m.group(3))
    if not (-90 <= out["lat"] <= 90 and -180 <= out["lon"] <= 180):
        return None
    return out


def _gps(tags: dict[str, str]) -> dict[str, float] | None:
    for k in ("location", "com.apple.quicktime.location.ISO6709", "location-eng"):
        if k in tags:
            g = parse_iso6709(tags[k])
            if g:
                return g
    return None


def _stream_info(s: Any) -> StreamInfo:
    cc = s.codec_context
    dur = float(s.duration * s.time_base) if s.duration and s.time_base else None
    info = StreamInfo(index=s.index, type=s.type, codec=cc.name if cc else "unknown", duration_s=dur)
    info.profile = getattr(cc, "profile", None)
    info.bit_rate = getattr(cc, "bit_rate", None) or None
    info.frames = s.frames or None
    if s.type == "video":
        info.width, info.height = cc.width or None, cc.height or None
        rate = s.average_rate or s.guessed_rate
        info.fps = round(float(rate), 3) if rate else None
        info.pix_fmt = getattr(cc, "pix_fmt", None)
    elif s.type == "audio":
        info.sample_rate = cc.sample_rate or None
        info.channels = getattr(cc, "channels", None)
    return info


def check_limits(info: MediaInfo, lim: TranscoderSettings) -> None:
    """Raise ``MediaRejected`` if the claimed geometry or duration is beyond the configured limits."""
    for s in info.streams:
        if s.type != "video" or not s.width or not s.height:
            continue
        if s.width > lim.max_width or s.height > lim.max_height or s.width * s.height > lim.max_pixels:
            raise MediaRejected(
                f"absurd resolution {s.width}x{s.height} in stream {s.index} "
                f"(limits {lim.max_width}x{lim.max_height}, {lim.max_pixels} pixels): not decoded"
            )
        if s.fps and s.fps > lim.max_fps and info.kind == "video":
            raise MediaRejected(f"absurd frame rate {s.fps} fps in stream {s.index} (limit {lim.max_fps})")
    for d in [info.duration_s, *(s.duration_s for s in info.streams)]:
        if d is not None and (d > lim.max_duration_s or d < 0):
            raise MediaRejected(f"absurd duration {d:.0f} s (limit {lim.max_duration_s:.0f} s): not decoded")


def sniff_image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG IHDR or JPEG SOF header, read before any decoder sees the file."""
    with path.open("rb") as f:
        head = f.read(64 * 1024)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            seg = int.from_bytes(head[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                return int.from_bytes(head[i + 7 : i + 9], "big"), int.from_bytes(head[i + 5 : i + 7], "big")
            i += 2 + seg
    return None


def probe(path: Path, limits: TranscoderSettings | None = None) -> MediaInfo:
    """Probe ``path``; ``ProbeFailed`` (undecodable) or ``MediaRejected`` (over limits) on bad input."""
    lim = limits or transcoder_settings()
    size = path.stat().st_size
    if size == 0:
        raise ProbeFailed("zero-length file: no media data")
    dims = sniff_image_size(path)
    if dims:
        w, h = dims
        if w > lim.max_width or h > lim.max_height or w * h > lim.max_pixels:
            raise MediaRejected(
                f"absurd resolution {w}x{h} in image header (limits {lim.max_width}x{lim.max_height}, "
                f"{lim.max_pixels} pixels): decompression bomb, not decoded"
            )
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise ProbeFailed(f"cannot open container: {exc.strerror or exc}") from exc
    with container:
        streams = [_stream_info(s) for s in container.streams if s.type in ("video", "audio")]
        if not streams:
            raise ProbeFailed(f"no audio or video stream in {container.format.name} container")
        tags = {str(k): str(v) for k, v in container.metadata.items()}
        fmt = container.format.name
        dur = container.duration / 1_000_000 if container.duration else None
        video = next((s for s in streams if s.type == "video"), None)
        if video is None:
            kind = "audio"
        elif video.codec in IMAGE_CODECS and (("image" in fmt or "pipe" in fmt) or (video.frames or 0) <= 1):
            kind = "photo"
        else:
            kind = "video"
        info = MediaInfo(kind=kind, container=fmt, size=size, duration_s=dur, streams=streams, tags=tags)
        if video:
            info.width, info.height, info.fps = video.width, video.height, video.fps
        info.creation_time = tags.get("creation_time")
        if info.creation_time is None:
            for s in container.streams:
                if "creation_time" in s.metadata:
                    info.creation_time = str(s.metadata["creation_time"])
                    break
        info.gps = _gps(tags)
        check_limits(info, lim)
        _decode_first(container, info)
    try:
        with av.open(str(path), metadata_errors="ignore") as again:
            _demux_all(again, info)
    except av.FFmpegError as exc:
        raise ProbeFailed(f"cannot reopen container: {exc.strerror or exc}") from exc
    if info.kind == "photo":
        info.duration_s = None
    return info


def _decode_first(container: Any, info: MediaInfo) -> None:
    """Decode one frame of the main stream: proves decodability, gives the display rotation."""
    target = info.video or info.audio
    assert target is not None
    stream = container.streams[target.index]
    try:
        for frame in container.decode(stream):
            if target.type == "video":
                info.rotation = int(getattr(frame, "rotation", 0) or 0) % 360
            break
        else:
            raise ProbeFailed(f"no decodable {target.type} frame in stream {target.index} ({target.codec})")
    except av.FFmpegError as exc:
        raise ProbeFailed(f"{target.codec} decoder error: {exc.strerror or exc}") from exc


def _demux_all(container: Any, info: MediaInfo) -> None:
    """Read every packet once; a promised-but-missing tail means a truncated recording."""
    declared = sum(s.frames or 0 for s in info.streams)
    count = 0
    wanted = [container.streams[s.index] for s in info.streams]
    main = (info.video or info.audio or info.streams[0]).index
    end = 0.0
    try:
        for pkt in container.demux(wanted):
            if pkt.size:
                count += 1
                if pkt.stream.index == main and pkt.pts is not None and pkt.time_base:
                    end = max(end, float((pkt.pts + (pkt.duration or 0)) * pkt.time_base))
    except av.FFmpegError as exc:
        raise ProbeFailed(f"demuxer error after {count} packets: {exc.strerror or exc}") from exc
    info.packets = count
    info.decodable_s = round(end, 3) if end else None
    if declared and declared - count > max(2, declared // 100) and info.kind != "photo":
        raise Truncated(
            f"truncated: only {count} of {declared} packets the container index declares are present "
            f"(file is {info.size} bytes; recording probably cut off)",
            info,
        )
