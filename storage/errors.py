from __future__ import annotations

from liuhen.core.errors import LiuhenError


class StorageError(LiuhenError):
    status = 500
    title = "Storage error"


class DigestMismatch(StorageError):
    """The bytes given to put() do not hash to the expected SHA-256; nothing was stored."""

    status = 422
    title = "Digest mismatch"

    def __init__(self, key: str, expected: str, computed: str) -> None:
        super().__init__(f"{key}: expected sha256 {expected}, computed {computed}")
        self.key, self.expected, self.computed = key, expected, computed


class ObjectNotFound(StorageError):
    status = 404
    title = "Object not found"


class ObjectLocked(StorageError):
    """A forbidden operation on retained or held data (overwrite, delete, shortening)."""

    status = 409
    title = "Object is locked"


class RetentionViolation(ObjectLocked):
    title = "Retention violation"


class StoreUnavailable(StorageError):
    status = 503
    title = "Store unavailable"


class StoreFull(StorageError):
    status = 507
    title = "Store full"


class NonConformantStore(StorageError):
    """The configured store allowed an operation write-once storage must refuse."""

    status = 503
    title = "Store is not write-once"


class InvalidKey(StorageError):
    status = 422
    title = "Invalid object key"


class InvalidRange(StorageError):
    status = 416
    title = "Range not satisfiable"


class JournalCorrupt(StorageError):
    title = "Retention journal corrupt"
