"""Write-once object stores: S3 Object Lock in production, a local WORM directory by default."""

from liuhen.storage.base import ObjectInfo, ObjectStore, key_for

__all__ = ["ObjectInfo", "ObjectStore", "key_for"]
