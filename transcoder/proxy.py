"""Proxy policy: which derivative each original gets, and the exact ffmpeg argv that makes it.

- Video already playable by a browser and ordinary court kit — H.264 (8-bit 4:2:0, Baseline/Main/High)
  with AAC or no audio, in MP4/MOV — is **remuxed** (``-c copy -movflags +faststart``): stream bytes
  unchanged.
- Any other video (HEVC, MJPEG/AVI, PCM/AMR audio, 10-bit or 4:2:2 H.264, …) is **transcoded** to
  H.264 High/yuv420p + AAC-LC MP4 at ``proxy_max_height`` (never upscaled), ``proxy_crf``,
  ``proxy_preset`` (``LIUHEN_PROXY_*``), ``+faststart``; rotation is applied to the pixels.
- Audio-only: AAC (copied if already AAC) in an ``.m4a`` (kind ``audio``).
- Photos: a JPEG ``preview`` with the longer side at most ``LIUHEN_TRANSCODER_PREVIEW_MAX_SIDE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ffmpeg as fp

from liuhen.core.config import Settings
from liuhen.transcoder.probe import MediaInfo
from liuhen.transcoder.settings import TranscoderSettings
from liuhen.transcoder.tool import INPUT, OUTPUT, template

PLAYABLE_CONTAINERS = ("mp4", "mov")
PLAYABLE_H264_PROFILES = frozenset({"Baseline", "Constrained Baseline", "Main", "High"})
AUDIO_BITRATE = "128k"
# Reading a truncated recording: keep going past damaged packets at the cut, drop them.
PARTIAL_INPUT = {"err_detect": "ignore_err", "fflags": "+discardcorrupt"}


@dataclass
class Step:
    """One ffmpeg run producing one or more derivatives of the same kind."""

    kind: str  # proxy | audio | preview | thumbnail | contact_sheet
    mode: str  # remux | transcode | extract
    argv: list[str]  # template (no binary) with {input}/{output} placeholders
    outputs: list[str]  # file names ({output} is a directory for multi-file steps)
    mime: str
    params: dict[str, Any] = field(default_factory=dict)
    multi: bool = False  # outputs are a numbered pattern in the {output} directory


def remuxable(info: MediaInfo) -> bool:
    v, a = info.video, info.audio
    if v is None or not any(c in info.container for c in PLAYABLE_CONTAINERS):
        return False
    if v.codec != "h264" or v.pix_fmt not in ("yuv420p", "yuvj420p"):
        return False
    if v.profile not in PLAYABLE_H264_PROFILES:
        return False
    return a is None or a.codec == "aac"


def plan_proxy(info: MediaInfo, s: Settings, ts: TranscoderSettings) -> Step:
    inp = fp.input(INPUT)
    if info.kind == "photo":
        m = ts.preview_max_side
        v = inp.video.filter("scale", w=f"min(iw,{m})", h=f"min(ih,{m})", force_original_aspect_ratio="decrease")
        out = fp.output(v, OUTPUT, vframes=1, **{"q:v": 3, "f": "image2", "update": 1})
        return Step("preview", "transcode", template(out), ["preview.jpg"], "image/jpeg", {"max_side": m})
    if info.kind == "audio":
        a = info.audio
        copy = a is not None and a.codec == "aac"
        opts: dict[str, Any] = {"acodec": "copy"} if copy else {"acodec": "aac", "b:a": AUDIO_BITRATE}
        out = fp.output(inp.audio, OUTPUT, f="mp4", movflags="+faststart", map_metadata=0, **opts)
        mode = "remux" if copy else "transcode"
        params: dict[str, Any] = {"codec": "aac", "bitrate": None if copy else AUDIO_BITRATE}
        return Step("audio", mode, template(out), ["audio.m4a"], "audio/mp4", params)
    streams = [inp.video] + ([inp.audio] if info.audio else [])
    if remuxable(info):
        out = fp.output(*streams, OUTPUT, c="copy", f="mp4", movflags="+faststart", map_metadata=0)
        return Step("proxy", "remux", template(out), ["proxy.mp4"], "video/mp4", {"copy": True})
    return _transcode_video(info, s, inp, "proxy.mp4")


def _transcode_video(info: MediaInfo, s: Settings, inp: Any, name: str) -> Step:
    """H.264 High/yuv420p + AAC-LC MP4 at most ``proxy_max_height`` high (never upscaled)."""
    h = s.proxy_max_height
    v = inp.video.filter("scale", w=-2, h=f"min({h},trunc(ih/2)*2)")
    vopts = {
        "vcodec": "libx264",
        "crf": s.proxy_crf,
        "preset": s.proxy_preset,
        "pix_fmt": "yuv420p",
        "profile:v": "high",
    }
    aopts = {"acodec": "aac", "b:a": AUDIO_BITRATE, "ac": 2} if info.audio else {}
    outs = [v] + ([inp.audio] if info.audio else [])
    out = fp.output(*outs, OUTPUT, f="mp4", movflags="+faststart", map_metadata=0, **vopts, **aopts)
    params = {
        "vcodec": "libx264",
        "max_height": h,
        "crf": s.proxy_crf,
        "preset": s.proxy_preset,
        "acodec": "aac" if info.audio else None,
        "audio_bitrate": AUDIO_BITRATE if info.audio else None,
    }
    return Step("proxy", "transcode", template(out), [name], "video/mp4", params)


def plan_partial(info: MediaInfo, s: Settings, ts: TranscoderSettings) -> list[Step]:
    """Derivatives of the decodable part of a truncated recording, each labelled ``partial``.

    Always a transcode (never a remux of a damaged stream), reading with ``PARTIAL_INPUT`` so damaged
    packets at the cut are dropped instead of failing the run. Names say ``partial``; every step's
    ``params`` carry ``partial: true``, the decodable and the declared duration.
    """
    mark = {"partial": True, "decodable_s": info.decodable_s, "declared_s": info.duration_s}
    inp = fp.input(INPUT, **PARTIAL_INPUT)
    if info.kind == "audio":
        out = fp.output(
            inp.audio, OUTPUT, f="mp4", movflags="+faststart", map_metadata=0, acodec="aac", **{"b:a": AUDIO_BITRATE}
        )
        params = {"codec": "aac", "bitrate": AUDIO_BITRATE, **mark}
        return [Step("audio", "transcode", template(out), ["audio.partial.m4a"], "audio/mp4", params)]
    if info.kind != "video":
        return []
    proxy = _transcode_video(info, s, inp, "proxy.partial.mp4")
    proxy.params.update(mark)
    steps = [proxy]
    for t in plan_thumbnails(info, s, ts, partial=True):
        t.params.update(mark)
        steps.append(t)
    return steps


def _every(v: Any, seconds: float) -> Any:
    """The first frame at or after each multiple of ``seconds`` (works on keyframe-only decode)."""
    return v.filter("select", f"isnan(prev_selected_t)+gte(t-prev_selected_t,{seconds})")


def _jpeg_ready(v: Any) -> Any:
    return v.filter("format", "yuvj420p")


def plan_thumbnails(info: MediaInfo, s: Settings, ts: TranscoderSettings, *, partial: bool = False) -> list[Step]:
    """Thumbnails every ``thumbnail_interval_s`` (keyframes only) and one contact sheet.

    ``partial``: of the decodable part of a truncated file (its duration, ``PARTIAL_INPUT``).
    """
    if info.kind != "video":
        return []
    dur = (info.decodable_s if partial else info.duration_s) or 0.0
    iopts: dict[str, Any] = {"skip_frame": "nokey", **(PARTIAL_INPUT if partial else {})}
    every = s.thumbnail_interval_s
    count = max(1, int(dur // every) + (1 if dur % every > 0.5 or dur < every else 0))
    inp = fp.input(INPUT, **iopts)
    thumbs = _jpeg_ready(_every(inp.video, every).filter("scale", w=ts.thumbnail_width, h=-2, out_range="full"))
    stem = "thumb_partial_" if partial else "thumb_"
    out = fp.output(thumbs, f"{OUTPUT}/{stem}%04d.jpg", **{"q:v": 4, "f": "image2", "fps_mode": "passthrough"})
    names = [f"{stem}{i + 1:04d}.jpg" for i in range(count)]  # expected; the run's listing is authoritative
    steps = [
        Step(
            "thumbnail",
            "extract",
            template(out),
            names,
            "image/jpeg",
            {"interval_s": every, "width": ts.thumbnail_width, "decode": "keyframes"},
            multi=True,
        )
    ]
    tiles = min(count, ts.contact_sheet_max_tiles)
    sheet_every = max(every, dur / tiles) if dur else every
    cols = min(ts.contact_sheet_columns, tiles)
    rows = -(-tiles // cols)
    sheet = _jpeg_ready(
        _every(fp.input(INPUT, **iopts).video, round(sheet_every, 3)).filter("scale", w=160, h=-2, out_range="full")
    ).filter("tile", layout=f"{cols}x{rows}", padding=2, margin=2)
    out2 = fp.output(sheet, OUTPUT, vframes=1, **{"q:v": 4, "f": "image2", "update": 1})
    params = {"interval_s": round(sheet_every, 3), "tiles": tiles, "layout": f"{cols}x{rows}", "tile_width": 160}
    sheet_name = "contact_sheet.partial.jpg" if partial else "contact_sheet.jpg"
    steps.append(Step("contact_sheet", "extract", template(out2), [sheet_name], "image/jpeg", params))
    return steps
