"""Digests: SHA-256 always, SM3 (GB/T 32905) when configured and OpenSSL provides it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from liuhen.integrity.errors import IntegrityError

CHUNK = 1 << 20


class DigestUnavailable(IntegrityError):
    """The requested digest algorithm is not available in this Python/OpenSSL build."""


def sm3_available() -> bool:
    try:
        hashlib.new("sm3")
        return True
    except ValueError:
        return False


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


def hash_chunks(chunks: Iterable[bytes], algos: Iterable[str] = ("sha256",)) -> dict[str, str]:
    hs = {a: new(a) for a in dict.fromkeys(algos)}
    for c in chunks:
        for h in hs.values():
            h.update(c)
    return {a: h.hexdigest() for a, h in hs.items()}


def hash_bytes(data: bytes, algos: Iterable[str] = ("sha256",)) -> dict[str, str]:
    return hash_chunks([data], algos)


def hash_file(path: str | Path, algos: Iterable[str] = ("sha256",)) -> dict[str, str]:
    def read() -> Iterable[bytes]:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    return hash_chunks(read(), algos)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
