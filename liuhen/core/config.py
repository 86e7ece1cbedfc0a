"""Configuration: ``LIUHEN_*`` environment variables, optionally a TOML file (``LIUHEN_CONFIG``).

The defaults are the embedded ones: PostgreSQL from the ``pgserver`` wheel, the local write-once
store, dramatiq's StubBroker with in-process worker threads. Everything they keep lives under
``data_dir``. Backend-specific settings (e.g. ``LIUHEN_S3_*``) are read by the backend's own module.
"""

from __future__ import annotations

import getpass
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Digest = Literal["sha256", "sm3"]


def _default_parallelism() -> int:
    return max(2, min(8, (os.cpu_count() or 2) * 2))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIUHEN_", extra="ignore", env_nested_delimiter="__")

    data_dir: Path = Field(default=Path("liuhen-data"), description="Everything embedded defaults keep.")
    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset = embedded pgserver.")
    broker_url: str | None = Field(default=None, description="amqp://… or redis://…; unset = in-process.")
    store: Literal["local", "s3", "memory"] = Field(default="local", description="Write-once store backend.")
    docks: list[Path] = Field(default_factory=list, description="Dock directories to watch.")
    digests: list[Digest] = Field(default_factory=lambda: list[Digest](["sha256"]), description="sha256; add sm3")
    retention_days: int = Field(default=180, ge=180, description="COMPLIANCE retention for originals.")
    ingest_parallelism: int = Field(default_factory=_default_parallelism, ge=1, le=64)
    worker_threads: int = Field(default=2, ge=1, le=64, description="In-process transcoder threads.")
    production: bool = Field(default=False, description="Refuse to start on a non-conformant store.")
    allow_nonconformant_store: bool = False
    log_origin: str = Field(default="liuhen.local/audit", description="Checkpoint origin line.")
    checkpoint_interval_s: float = Field(default=60.0, gt=0)
    actor: str = Field(default="", description="Who the CLI acts as in audit events (default: OS user).")
    display_tz: str = Field(default="Asia/Shanghai", description="Zone for times people read (pages, receipts).")
    late_upload_hours: float = 24.0
    clock_drift_tolerance_s: float = 120.0
    proxy_max_height: int = Field(default=720, ge=144)
    proxy_crf: int = Field(default=23, ge=0, le=51)
    proxy_preset: str = "veryfast"
    thumbnail_interval_s: float = Field(default=10.0, gt=0)
    ffmpeg_timeout_s: float = Field(default=1800.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("digests")
    @classmethod
    def _sha256_always(cls, v: list[Digest]) -> list[Digest]:
        if "sha256" not in v:
            v = ["sha256", *v]
        return list(dict.fromkeys(v))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = os.environ.get("LIUHEN_CONFIG")
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
        return tuple(sources)

    # Derived paths: everything the embedded defaults keep lives under data_dir.
    @property
    def root(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def store_dir(self) -> Path:
        return self.root / "store"

    @property
    def staging_dir(self) -> Path:
        return self.root / "store" / "staging"

    @property
    def derived_dir(self) -> Path:
        return self.root / "derived"

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    @property
    def export_dir(self) -> Path:
        return self.root / "exports"

    def actor_name(self) -> str:
        if self.actor:
            return self.actor
        return f"cli:{os_user()}"



def os_user() -> str:
    """The operating-system user running this process (``unknown`` if it cannot be told)."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@lru_cache(maxsize=1)
def get_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
