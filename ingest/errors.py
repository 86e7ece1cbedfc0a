"""Ingest errors: each names what went wrong with one source file or one recorder.

The ``code`` is what a receipt shows (stable, machine-readable); ``str(error)`` is the one-line reason.
"""

from __future__ import annotations

from liuhen.core.errors import LiuhenError


class IngestError(LiuhenError):
    status = 500
    title = "Ingest error"
    code = "ingest_error"


class SourceUnreadable(IngestError):
    """The recorder refused to give us the bytes (EIO, EACCES, …)."""

    status = 422
    title = "Source file unreadable"
    code = "unreadable"


class SourceVanished(IngestError):
    """The file disappeared or shrank while it was being copied (recorder unplugged)."""

    status = 409
    title = "Source vanished mid-copy"
    code = "vanished"


class SourceChanged(IngestError):
    """The file changed (size/mtime/inode) while it was being copied."""

    status = 409
    title = "Source changed mid-copy"
    code = "changed"


class NotRegularFile(IngestError):
    status = 422
    title = "Not a regular file"
    code = "not_regular_file"


class SymlinkOutsideRecorder(IngestError):
    """A symbolic link that points outside the recorder: never followed."""

    status = 422
    title = "Symlink points outside the recorder"
    code = "symlink_outside"


class StagingFull(IngestError):
    """ENOSPC/EDQUOT while writing the staging copy."""

    status = 507
    title = "Destination disk full"
    code = "disk_full"


class CopyCancelled(IngestError):
    """A copy stopped on purpose because the file needs none (e.g. it is a resume); nothing was staged."""

    status = 409
    title = "Copy stopped"
    code = "copy_cancelled"


class RecorderUnreadable(IngestError):
    status = 422
    title = "Recorder directory unreadable"
    code = "recorder_unreadable"


def error_code(exc: BaseException) -> str:
    """The receipt code for any exception raised while ingesting one file."""
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    name = type(exc).__name__
    return {
        "StoreUnavailable": "store_unavailable",
        "StoreFull": "store_full",
        "DigestMismatch": "digest_mismatch",
        "DigestUnavailable": "digest_unavailable",
        "ObjectLocked": "store_refused",
        "CatalogUnavailable": "catalog_unavailable",
    }.get(name, "error:" + name)


class DockNotFound(IngestError, FileNotFoundError):
    """The path given as a dock or recorder is not a directory (mistyped, or the dock is not mounted)."""

    status = 404
    title = "Dock or recorder not found"
    code = "dock_not_found"
