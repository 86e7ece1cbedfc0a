"""Redaction errors (all subclasses of ``LiuhenError``)."""

from __future__ import annotations

from liuhen.errors import LiuhenError


class RedactionError(LiuhenError):
    status = 500
    title = "Redaction error"


class DetectorUnavailable(RedactionError):
    """The face model is missing or is not the expected file."""

    status = 503
    title = "Face detector unavailable"


class RegionSpecInvalid(RedactionError):
    """A region, mute range or region document given by the user is malformed."""

    status = 422
    title = "Invalid redaction region"


class RedactionMediaFailed(RedactionError):
    """ffmpeg could not decode the original or encode the redacted copy."""

    status = 422
    title = "Redaction could not read or write the media"


class RedactionVerifyFailed(RedactionError):
    """The redacted copy does not match its original and region list (names the frame)."""

    status = 422
    title = "Redacted copy failed verification"
