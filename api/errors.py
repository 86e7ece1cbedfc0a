"""API errors. Each maps to an RFC 9457 problem+json response with its ``status``."""

from __future__ import annotations

from liuhen.core.errors import Forbidden, LiuhenError


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









class RangeNotSatisfiable(ApiError):
    status = 416
    title = "Range not satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"requested range not satisfiable (size {size})")
        self.size = size


class ServedDigestMismatch(ApiError):
    """Raised mid-transfer: the stored original no longer hashes to its digest; the transfer is cut."""

    status = 500
    title = "Stored original is corrupt"

    def __init__(self, expected: str, computed: str) -> None:
        super().__init__(f"stored original does not match its digest: expected sha256 {expected}, computed {computed}")
        self.expected = expected
        self.computed = computed


class FeatureUnavailable(ApiError):
    """A component this endpoint needs (integrity proofs, matching, export) is not installed."""

    status = 503
    title = "Feature unavailable"




class PayloadTooLarge(ApiError):
    """An upload larger than the endpoint accepts."""

    status = 413
    title = "Payload too large"
