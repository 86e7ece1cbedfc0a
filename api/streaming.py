"""HTTP Range playback (RFC 9110 §14): 206 single and multipart ranges, If-Range, 416.

Bytes come from a ``reader(start, end_inclusive) -> Iterator[bytes]`` so originals stream from
``store.get(key, start=, end=)`` and derivatives from disk, through the same code.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from liuhen.api.errors import RangeNotSatisfiable

CHUNK = 1 << 20
MAX_RANGES = 16
Reader = Callable[[int, int], Iterator[bytes]]


def parse_range(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """Byte ranges (inclusive) of a ``Range`` header; ``None`` = serve the whole representation.

    Malformed headers and non-byte units are ignored (RFC 9110 allows it); a well-formed set of
    ranges none of which overlaps the representation raises ``RangeNotSatisfiable`` (416).
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    out: list[tuple[int, int]] = []
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts or len(parts) > MAX_RANGES:
        return None
    for p in parts:
        first, dash, last = p.partition("-")
        if not dash:
            return None
        try:
            if first == "":
                n = int(last)
                if n < 0 or last.startswith(("+", "-")):
                    return None
                if n == 0:
                    continue
                out.append((max(0, size - n), size - 1))
                continue
            a = int(first)
            b = int(last) if last else size - 1
        except ValueError:
            return None
        if a < 0 or (last and b < a) or first.startswith(("+", "-")):
            return None
        if a >= size:
            continue
        out.append((a, min(b, size - 1)))
    if not out:
        raise RangeNotSatisfiable(size)
    return out


def file_reader(path: Path) -> Reader:
    def read(start: int, end: int) -> Iterator[bytes]:
        with path.open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    return read


def _if_range_matches(value: str, etag: str, last_modified: datetime | None) -> bool:
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag  # strong comparison; weak tags never match
    return last_modified is not None and value == format_datetime(last_modified.astimezone(UTC), usegmt=True)


def ranged_response(
    request: Request,
    *,
    size: int,
    etag: str,
    media_type: str,
    reader: Reader,
    last_modified: datetime | None = None,
    filename: str | None = None,
    attachment: bool = False,
) -> Response:
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Cache-Control": "private, no-transform"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if filename:
        headers["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    ranges = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if ranges is not None and if_range is not None and not _if_range_matches(if_range, etag, last_modified):
        ranges = None  # representation changed: send it whole
    if ranges is None:
        headers["Content-Length"] = str(size)
        body = reader(0, size - 1) if size else iter(())
        return StreamingResponse(body, status_code=200, media_type=media_type, headers=headers)
    if len(ranges) == 1:
        a, b = ranges[0]
        headers["Content-Range"] = f"bytes {a}-{b}/{size}"
        headers["Content-Length"] = str(b - a + 1)
        return StreamingResponse(reader(a, b), status_code=206, media_type=media_type, headers=headers)
    boundary = secrets.token_hex(12)
    heads = [
        f"--{boundary}\r\nContent-Type: {media_type}\r\nContent-Range: bytes {a}-{b}/{size}\r\n\r\n".encode()
        for a, b in ranges
    ]
    tail = f"--{boundary}--\r\n".encode()
    length = sum(len(h) + (b - a + 1) + 2 for h, (a, b) in zip(heads, ranges, strict=True)) + len(tail)

    def multipart() -> Iterator[bytes]:
        for h, (a, b) in zip(heads, ranges, strict=True):
            yield h
            yield from reader(a, b)
            yield b"\r\n"
        yield tail

    headers["Content-Length"] = str(length)
    return StreamingResponse(
        multipart(), status_code=206, media_type=f"multipart/byteranges; boundary={boundary}", headers=headers
    )
