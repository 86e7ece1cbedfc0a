"""Make real footage with ffmpeg (from the imageio-ffmpeg wheel): test clips and simulated recorders."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _run(args: list[str]) -> None:
    cmd = [ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")


def video_source(seed: int, width: int, height: int, fps: int = 30) -> str:
    """A lavfi source whose every second looks different (moving gradients + sensor noise)."""
    return (
        f"gradients=s={width}x{height}:r={fps}:speed=0.04:seed={seed}:n={3 + seed % 4},"
        f"noise=alls=10:allf=t"
    )


def make_video(
    out: Path,
    *,
    seconds: float,
    codec: str = "h264",
    width: int = 1920,
    height: int = 1080,
    fps: int = 30,
    bitrate: str = "8M",
    seed: int = 1,
    audio: bool = True,
    preset: str = "ultrafast",
) -> Path:
    """H.264 High (or HEVC) + AAC MP4, keyframe every second."""
    vcodec = {"h264": ["-c:v", "libx264", "-profile:v", "high"], "hevc": ["-c:v", "libx265", "-tag:v", "hvc1"]}
    args = ["-f", "lavfi", "-i", video_source(seed, width, height, fps)]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f={220 + 40 * (seed % 10)}:b=3:r=48000"]
    args += ["-t", str(seconds), *vcodec[codec], "-preset", preset, "-pix_fmt", "yuv420p"]
    args += ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", "16M", "-g", str(fps)]
    if codec == "hevc":
        args += ["-x265-params", "log-level=error"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "96k", "-shortest"]
    args += ["-movflags", "+faststart", str(out)]
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(args)
    return out


def make_wav(out: Path, *, seconds: float = 3.0, freq: int = 440) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(["-f", "lavfi", "-i", f"sine=f={freq}:r=16000", "-t", str(seconds), "-c:a", "pcm_s16le", str(out)])
    return out


def make_jpg(out: Path, *, seed: int = 1, width: int = 1920, height: int = 1080) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(["-f", "lavfi", "-i", video_source(seed, width, height, 1), "-frames:v", "1", "-q:v", "3", str(out)])
    return out


def truncate_copy(src: Path, out: Path, keep_fraction: float = 0.45) -> Path:
    """A copy of ``src`` cut short, as when a recorder loses power mid-write (moov atom missing)."""
    data = src.read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data[: max(1, int(len(data) * keep_fraction))])
    return out
