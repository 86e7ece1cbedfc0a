"""Pick the configured backend: ``open_store(settings)`` by ``Settings.store`` (local|s3|memory).

Each backend reads only its own settings: the local store its directory (``Settings.store_dir``),
the S3 store ``S3Settings`` (``LIUHEN_S3_*`` and the standard AWS variables). boto3 is imported only
when the S3 backend is chosen.
"""

from __future__ import annotations

from liuhen.core.config import Settings
from liuhen.core.errors import ConfigError
from liuhen.storage.base import ObjectStore
from liuhen.storage.local import LocalStore
from liuhen.storage.memory import MemoryStore
from liuhen.storage.s3 import S3Settings, S3Store


def open_store(settings: Settings) -> ObjectStore:
    """The object store ``settings`` selects (originals get ``settings.retention_days`` by default)."""
    days = settings.retention_days
    if settings.store == "local":

        return LocalStore(settings.store_dir, default_retention_days=days)
    if settings.store == "memory":

        return MemoryStore(default_retention_days=days)
    if settings.store == "s3":

        return S3Store(S3Settings(), default_retention_days=days)
    raise ConfigError(f"unknown store backend {settings.store!r} (expected local, s3 or memory)")
