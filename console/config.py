"""Console settings (environment ``LIUHEN_*``, like the rest of Liuhen)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("zh_CN", "en")


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIUHEN_", extra="ignore")

    timezone: str = Field(default="Asia/Shanghai", description="Zone every time is shown in.")
    console_language: str = Field(default="zh_CN", description="Default UI language (zh_CN or en).")
    session_idle_minutes: float = Field(default=30.0, gt=0, description="Idle timeout of a console session.")
    session_absolute_hours: float = Field(default=12.0, gt=0, description="Absolute lifetime of a session.")
    lockout_failures: int = Field(default=5, ge=1, description="Consecutive failures that lock an account.")
    lockout_minutes: float = Field(default=15.0, gt=0, description="How long a lockout lasts.")
    password_min_length: int = Field(default=10, ge=8)
    playback_grant_minutes: float = Field(default=30.0, gt=0, description="A stated purpose covers this long.")
    secure_cookies: bool | None = Field(default=None, description="Force the Secure flag (default: under TLS).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("console_language")
    @classmethod
    def _lang(cls, v: str) -> str:
        if v not in LANGUAGES:
            raise ValueError(f"console language {v!r}: one of {', '.join(LANGUAGES)}")
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_console_settings() -> ConsoleSettings:
    return ConsoleSettings()
