"""HTTP Range playback (RFC 9110 §14): 206 single and multipart ranges, If-Range, 416.

Bytes come from a ``reader(start, end_inclusive) -> Iterator[bytes]`` so originals stream from
``store.get(key, start=, end=)`` and derivatives from disk, through the same code.

Ranges are coalesced (RFC 9110 §14.3): overlapping or adjacent ranges become one, in ascending
order, so a response never carries more bytes than the representation. More than ``MAX_RANGES``
ranges in one header are ignored and the whole representation is sent (nginx ``max_ranges``).

With a ``DigestGuard`` (originals), the whole object is read in one pass and hashed while the
requested bytes are sent; the last chunk is held back until the digest is known. On a mismatch the
guard's ``on_mismatch`` runs and the transfer is cut (``ServedDigestMismatch``), so a client never
receives a complete body whose bytes differ from the digest it was promised (the ETag).

Behind nginx (``LIUHEN_EDGE_ACCEL=true``): once the route has authorised the request and recorded its
access event (I5), the response carries no body but ``X-Accel-Redirect`` to an internal nginx location,
and nginx sends the bytes (Range, If-Range, multipart and 416 included). Local files map to locations
through ``LIUHEN_EDGE_ACCEL_MAP`` (JSON ``{"/srv/liuhen/derived": "/_liuhen/derived/", ...}``); an object
in S3 becomes a presigned GET (``LIUHEN_EDGE_PRESIGN_TTL_S``, 60 s) proxied by the internal location
``LIUHEN_EDGE_S3_LOCATION`` (``/_liuhen/s3/``), so clients never reach the store. A reader that maps to
nothing is streamed from Python as before; without the setting (the embedded default) Python serves all.
A guarded original (``DigestGuard``) is never handed to nginx: its bytes are hashed here while they are sent.
With ``LIUHEN_EDGE_LINK_SECRET`` set, ``?link=true`` on a playback request answers (after the access event)
with a short-lived URL that nginx checks with ``secure_link`` (expiry, path, client address) and serves
itself: a player's Range requests then never reach Python. Example nginx configuration:
deploy/nginx/liuhen.conf.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic_settings import BaseSettings, SettingsConfigDict

from liuhen.api.errors import RangeNotSatisfiable, ServedDigestMismatch

CHUNK = 1 << 20
MAX_RANGES = 16
Reader = Callable[[int, int], Iterator[bytes]]
Piece = bytes | tuple[int, int]  # literal bytes of the body, or an inclusive byte range of the object


@dataclass(frozen=True)
class DigestGuard:
    """Serve only bytes that hash to ``sha256``; ``on_mismatch(computed)`` runs before the cut."""

    sha256: str
    on_mismatch: Callable[[str], object]


def coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with overlapping and adjacent ones merged (inclusive ends)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


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
    return coalesce(out)


class EdgeSettings(BaseSettings):
    """``LIUHEN_EDGE_*``: how an nginx front sends the bytes the API authorised."""

    model_config = SettingsConfigDict(env_prefix="LIUHEN_EDGE_", extra="ignore")

    accel: bool = False
    accel_map: dict[str, str] = {}
    s3_location: str = "/_liuhen/s3/"
    presign_ttl_s: int = 60
    # playback links: ``?link=true`` answers with a URL nginx serves itself (secure_link), valid
    # ``link_ttl_s`` for the requesting address only, so the Range requests of one playback skip Python
    link_secret: str = ""
    link_prefix: str = "/_liuhen/signed"
    link_ttl_s: int = 300


class FileReader:
    """Reads ranges of a local file; ``path`` lets an nginx front send the file itself."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, start: int, end: int) -> Iterator[bytes]:
        with self.path.open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk


class StoreReader:
    """Reads ranges of a stored object; an nginx front gets its local path or a presigned URL instead."""

    def __init__(self, store: Any, key: str) -> None:
        self.store, self.key = store, key

    def __call__(self, start: int, end: int) -> Iterator[bytes]:
        return self.store.get(self.key, start=start, end=end)  # type: ignore[no-any-return]


def file_reader(path: Path) -> Reader:
    return FileReader(path)


def store_reader(store: Any, key: str) -> Reader:
    return StoreReader(store, key)


def accel_target(reader: Reader, edge: EdgeSettings) -> str | None:
    """The internal nginx URI that serves what ``reader`` reads, or None (Python streams it)."""
    path: Path | None = None
    if isinstance(reader, FileReader):
        path = reader.path
    elif isinstance(reader, StoreReader):
        path_of = getattr(reader.store, "path_of", None)  # the local store
        if path_of is not None:
            path = Path(path_of(reader.key))
        elif hasattr(reader.store, "client") and hasattr(reader.store, "bucket"):  # S3: presigned GET
            url = reader.store.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": reader.store.bucket, "Key": reader.key},
                ExpiresIn=edge.presign_ttl_s,
            )
            rest = urlsplit(url)
            return edge.s3_location + rest.path.lstrip("/") + ("?" + rest.query if rest.query else "")
    if path is None:
        return None
    real = path.resolve()
    for local, location in edge.accel_map.items():
        base = Path(local).resolve()
        if real.is_relative_to(base):
            return location.rstrip("/") + "/" + quote(real.relative_to(base).as_posix())
    return None


def _plain_body(reader: Reader, plan: list[Piece]) -> Iterator[bytes]:
    for piece in plan:
        if isinstance(piece, bytes):
            yield piece
        else:
            yield from reader(*piece)


def _guarded_body(reader: Reader, size: int, plan: list[Piece], guard: DigestGuard) -> Iterator[bytes]:
    """One sequential pass over the whole object, hashing it, emitting only the planned ranges.

    Everything from the last chunk of object bytes on is held until the digest is checked.
    """
    h = hashlib.sha256()
    held: list[bytes] = []
    pos = 0
    for piece in plan:
        if isinstance(piece, bytes):
            if held:
                held.append(piece)
            else:
                yield piece
            continue
        a, b = piece
        if pos < a:
            for chunk in reader(pos, a - 1):
                h.update(chunk)
            pos = a
        for chunk in reader(a, b):
            h.update(chunk)
            yield from held
            held = [chunk]
        pos = b + 1
    if pos < size:
        for chunk in reader(pos, size - 1):
            h.update(chunk)
    computed = h.hexdigest()
    if computed != guard.sha256.lower():
        guard.on_mismatch(computed)
        raise ServedDigestMismatch(guard.sha256, computed)
    yield from held


def _if_range_matches(value: str, etag: str, last_modified: datetime | None) -> bool:
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag  # strong comparison; weak tags never match
    return last_modified is not None and value == format_datetime(last_modified.astimezone(UTC), usegmt=True)


def signed_link(target: str, edge: EdgeSettings, client_ip: str, now: float | None = None) -> tuple[str, int]:
    """(URL, expiry) for nginx's secure_link: md5 = base64url(md5("<expires><uri><client ip> <secret>"))."""
    expires = int((now if now is not None else time.time()) + edge.link_ttl_s)
    path, _, _ = target.partition("?")
    uri = edge.link_prefix.rstrip("/") + path
    digest = hashlib.md5(f"{expires}{unquote(uri)}{client_ip} {edge.link_secret}".encode()).digest()  # noqa: S324
    md5 = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return f"{uri}?md5={md5}&expires={expires}", expires


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
    guard: DigestGuard | None = None,
) -> Response:
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Cache-Control": "private, no-transform"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if filename:
        headers["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    edge = EdgeSettings()
    target = accel_target(reader, edge) if edge.accel and guard is None else None
    if target is not None and edge.link_secret and request.query_params.get("link") in ("1", "true"):
        # the access is recorded (the route did it before calling us): hand out the playback link
        url, expires = signed_link(target, edge, request.client.host if request.client else "")
        return JSONResponse({"url": url, "expires": expires}, headers={"Cache-Control": "no-store"})
    if target is not None:  # nginx sends the bytes (and answers Range itself)
        headers["X-Accel-Redirect"] = target
        return Response(status_code=200, media_type=media_type, headers=headers)
    ranges = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if ranges is not None and if_range is not None and not _if_range_matches(if_range, etag, last_modified):
        ranges = None  # representation changed: send it whole
    if ranges is None:
        ranges = [(0, size - 1)] if size else []
        status = 200
    else:
        status = 206
    if len(ranges) <= 1:
        plan: list[Piece] = list(ranges)
        if status == 206:
            a, b = ranges[0]
            headers["Content-Range"] = f"bytes {a}-{b}/{size}"
        headers["Content-Length"] = str(sum(b - a + 1 for a, b in ranges))
    else:
        boundary = secrets.token_hex(12)
        plan = []
        for a, b in ranges:
            head = f"--{boundary}\r\nContent-Type: {media_type}\r\nContent-Range: bytes {a}-{b}/{size}\r\n\r\n"
            plan.append(head.encode())
            plan.append((a, b))
            plan.append(b"\r\n")
        plan.append(f"--{boundary}--\r\n".encode())
        headers["Content-Length"] = str(sum(len(p) if isinstance(p, bytes) else p[1] - p[0] + 1 for p in plan))
        media_type = f"multipart/byteranges; boundary={boundary}"
    body = _guarded_body(reader, size, plan, guard) if guard else _plain_body(reader, plan)
    return StreamingResponse(body, status_code=status, media_type=media_type, headers=headers)
