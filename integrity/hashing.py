"""Digests: SHA-256 always, SM3 (GB/T 32905) when configured and OpenSSL provides it."""

from __future__ import annotations

import hashlib
from typing import Any

from liuhen.integrity.errors import DigestUnavailable


def new(algo: str) -> Any:
    """A hashlib object for ``sha256`` or ``sm3``; ``DigestUnavailable`` with the reason otherwise."""
    if algo == "sha256":
        return hashlib.sha256()
    if algo == "sm3":
        try:
            return hashlib.new("sm3")
        except ValueError as exc:
            raise DigestUnavailable(
                "SM3 is not available: this Python's OpenSSL has no 'sm3' (OpenSSL >= 1.1.1 built with SM3 "
                "provides it); remove 'sm3' from LIUHEN_DIGESTS or use a Python linked to such an OpenSSL"
            ) from exc
    raise DigestUnavailable(f"unknown digest {algo!r} (supported: sha256, sm3)")
