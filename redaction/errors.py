"""Redaction errors (all subclasses of ``LiuhenError``)."""

from __future__ import annotations

from liuhen.core.errors import LiuhenError


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


class RedactionNotFound(RedactionError):
    status = 404
    title = "Redaction not found"


class RedactionStateError(RedactionError):
    """The redaction is not in a state that allows this step (e.g. approving a draft that failed verification)."""

    status = 409
    title = "Redaction not in the required state"


class RedactionApprovalRefused(RedactionError):
    """The drafter may not approve their own redaction (four eyes)."""

    status = 403
    title = "Redaction approval refused"


class RedactionNotApproved(RedactionError):
    """Only approved (final) redactions may be disclosed or exported."""

    status = 409
    title = "Redaction not approved"
