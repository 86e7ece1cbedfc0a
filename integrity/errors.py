from __future__ import annotations

from liuhen.core.errors import LiuhenError


class IntegrityError(LiuhenError):
    status = 500
    title = "Integrity error"


class VerificationError(IntegrityError):
    """A security check failed. Names what was expected and what was computed."""

    status = 422
    title = "Verification failed"

    def __init__(self, what: str, expected: object = None, computed: object = None) -> None:
        msg = what
        if expected is not None or computed is not None:
            msg = f"{what}: expected {expected!s}, computed {computed!s}"
        super().__init__(msg)
        self.what, self.expected, self.computed = what, expected, computed


class MalformedKey(IntegrityError):
    """A verifier or signer key string does not follow the C2SP signed-note key format."""

    status = 422
    title = "Malformed key"


class KeyInsecure(IntegrityError):
    """The signing key file or its directory is readable by group or others."""


class TreeCorrupt(IntegrityError):
    """A stored hash the tree needs is missing (the node table does not match the leaves)."""


class DigestUnavailable(IntegrityError):
    """The requested digest algorithm is not available in this Python/OpenSSL build."""

    status = 500
    title = "Digest unavailable"
