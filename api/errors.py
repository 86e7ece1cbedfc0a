"""API errors. Each maps to an RFC 9457 problem+json response with its ``status``."""

from __future__ import annotations

from liuhen.errors import Conflict, Forbidden, InvalidRequest, LiuhenError, NotFound


class ApiError(LiuhenError):
    status = 400
    title = "Bad request"


class Unauthenticated(ApiError):
    """No bearer token, or one that is unknown, expired or revoked."""

    status = 401
    title = "Authentication required"


class RoleForbidden(Forbidden):
    """The caller's role is not allowed this endpoint by the role matrix."""

    title = "Role not allowed"


class PurposeRequired(ApiError):
    """Viewing or streaming footage needs a stated purpose (调阅事由)."""

    status = 428
    title = "Purpose required"


class ApprovalRequired(Forbidden):
    """Downloading originals or exporting needs a supervisor-approved request."""

    title = "Approved request required"


class CaseNotFound(NotFound):
    title = "Case not found"


class FileNotFound(NotFound):
    title = "File not found"


class StageOrderError(Conflict):
    """A stage change out of order (stages only move forward, one at a time)."""

    title = "Stage order violated"


class LegalReviewRequired(Conflict):
    """未经法制审核或审核未通过的，不得作出决定: a major case cannot enter 'decision' without approval."""

    title = "Approved legal review required"


class InvalidActivity(InvalidRequest):
    title = "Invalid activity"


class RangeNotSatisfiable(ApiError):
    status = 416
    title = "Range not satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"requested range not satisfiable (size {size})")
        self.size = size


class FeatureUnavailable(ApiError):
    """A component this endpoint needs (integrity proofs, matching, export) is not installed."""

    status = 503
    title = "Feature unavailable"


__all__ = [
    "ApiError",
    "ApprovalRequired",
    "CaseNotFound",
    "Conflict",
    "FeatureUnavailable",
    "FileNotFound",
    "InvalidActivity",
    "InvalidRequest",
    "LegalReviewRequired",
    "NotFound",
    "PurposeRequired",
    "RangeNotSatisfiable",
    "RoleForbidden",
    "StageOrderError",
    "Unauthenticated",
]


class PayloadTooLarge(ApiError):
    """An upload larger than the endpoint accepts."""

    status = 413
    title = "Payload too large"
