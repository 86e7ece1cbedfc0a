"""Transcoder-specific settings (``LIUHEN_TRANSCODER_*``); proxy size/quality live in ``liuhen.config``.

Safety limits are checked on the probe, before anything is decoded at full size.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TranscoderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIUHEN_TRANSCODER_", extra="ignore")

    queue: str = Field(default="liuhen.transcode", description="dramatiq queue name (prefix per deployment).")
    max_retries: int = Field(default=5, ge=0, description="Retries for infrastructure failures.")
    min_backoff_ms: int = Field(default=2_000, ge=0)
    max_backoff_ms: int = Field(default=300_000, ge=0)
    time_limit_s: float = Field(default=3600.0, gt=0, description="dramatiq time limit per message.")
    max_width: int = Field(default=8192, ge=16, description="Larger frames are rejected (not decoded).")
    max_height: int = Field(default=8192, ge=16)
    max_pixels: int = Field(default=8192 * 4320, ge=256, description="width*height upper bound.")
    max_duration_s: float = Field(default=24 * 3600.0, gt=0, description="Longer claimed durations rejected.")
    max_fps: float = Field(default=240.0, gt=0)
    rlimit_as_mb: int = Field(default=4096, ge=0, description="ffmpeg address-space limit; 0 = none.")
    rlimit_cpu_s: int = Field(default=0, ge=0, description="ffmpeg CPU-seconds limit; 0 = derived from timeout.")
    contact_sheet_columns: int = Field(default=5, ge=1, le=20)
    contact_sheet_max_tiles: int = Field(default=25, ge=1, le=400)
    thumbnail_width: int = Field(default=320, ge=32)
    preview_max_side: int = Field(default=1600, ge=64)
    fingerprint: bool = Field(default=True, description="Compute per-second perceptual hashes for video.")


@lru_cache(maxsize=1)
def transcoder_settings() -> TranscoderSettings:
    return TranscoderSettings()
