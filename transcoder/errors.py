"""Transcoder errors. Media errors are recorded on the file row; infrastructure errors propagate."""

from __future__ import annotations

from typing import Any

from liuhen.core.errors import LiuhenError


class TranscoderError(LiuhenError):
    status = 500
    title = "Transcoder error"


class MediaError(TranscoderError):
    """Something is wrong with the media itself (recorded on the file; retrying will not help)."""

    status = 422
    media_status = "corrupt"


class ProbeFailed(MediaError):
    title = "Media could not be probed or decoded"


class Truncated(ProbeFailed):
    """Fewer packets than the container index declares; ``info`` (``probe.MediaInfo``) describes the part
    that is present."""

    def __init__(self, message: str, info: Any) -> None:
        super().__init__(message)
        self.info = info


class MediaRejected(MediaError):
    """Media outside the configured safety limits (absurd resolution/duration, decompression bomb)."""

    title = "Media rejected by safety limits"
    media_status = "unsupported"


class FfmpegFailed(MediaError):
    title = "ffmpeg failed"


class FfmpegTimeout(MediaError):
    title = "ffmpeg timed out"


class OriginalMismatch(TranscoderError):
    """The bytes read from the store do not hash to the file's recorded digest (never derive from them)."""

    title = "Original does not match its digest"


class TranscodeFileNotFound(TranscoderError):
    """No catalogued file with the id a transcode job names (deleted, or a stale job)."""

    status = 404
    title = "File not found"


class WorkersExited(TranscoderError):
    """Every transcoder worker process exited while files were still waiting to be transcoded."""

    status = 503
    title = "Transcoder workers exited"
