"""Byte helpers used across packages: standard base64 and SHA-256 of bytes and files."""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

CHUNK = 1 << 20


def b64(data: bytes) -> str:
    """Standard (padded) base64 as ASCII text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str | bytes) -> bytes:
    """Strict standard base64 (``ValueError`` on anything outside the alphabet or bad padding)."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = CHUNK) -> str:
    """SHA-256 hex of a file's bytes, read in ``chunk``-sized pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
