"""Footage: search, metadata, Range playback of proxies and originals, thumbnails, previews, matching.

Every view/stream/download is recorded (committed) before the response object exists (I5).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Path, Query, Request, UploadFile
from fastapi.responses import Response

from liuhen.api.auth import authorize
from liuhen.api.errors import PayloadTooLarge
from liuhen.api.http import headers_only, is_head
from liuhen.api.models import FileDetail, FileOut, MatchOut, Moment, SearchPage, Stage, ThumbnailOut
from liuhen.api.routes import problems, runtime_of
from liuhen.api.search import search_files
from liuhen.api.streaming import DigestGuard, file_reader, ranged_response, store_reader
from liuhen.cases import access, scope
from liuhen.cases.errors import FileNotFound
from liuhen.cases.principal import Principal
from liuhen.core.errors import InvalidRequest, LiuhenError
from liuhen.transcoder.match import match_file

router = APIRouter(tags=["footage"])
Who = Annotated[Principal, Depends(authorize)]
Digest = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the original")]
PurposeQ = Annotated[str | None, Query(max_length=500, description="why (调阅事由); or header X-Liuhen-Purpose")]
PurposeH = Annotated[str | None, Header(alias="X-Liuhen-Purpose", max_length=1500, include_in_schema=False)]
RANGE_DOC: dict[int | str, dict[str, Any]] = {
    206: {"description": "Partial content (Range)"},
    200: {"description": "The whole representation"},
}


def _purpose(q: str | None, h: str | None) -> str:
    return access.check_purpose(q if q else (unquote(h) if h else None))


def _file(rt: Any, sha256: str) -> dict[str, Any]:
    row = rt.catalog.one("SELECT * FROM files WHERE sha256 = %s", (sha256.lower(),))
    if row is None:
        raise FileNotFound(f"no stored file {sha256.lower()}")
    return row


def _derivative(rt: Any, file_id: int, kind: str, seq: int | None = None) -> dict[str, Any]:
    if seq is None:
        row = rt.catalog.one(
            "SELECT * FROM derivatives WHERE file_id = %s AND kind = %s ORDER BY seq LIMIT 1", (file_id, kind)
        )
    else:
        row = rt.catalog.one(
            "SELECT * FROM derivatives WHERE file_id = %s AND kind = %s AND seq = %s", (file_id, kind, seq)
        )
    if row is None:
        raise FileNotFound(f"no {kind} for this file (not yet transcoded?)")
    return row


def _derived_path(rt: Any, d: dict[str, Any]) -> FsPath:
    root = rt.settings.derived_dir.resolve()
    p = FsPath(d["path"])
    p = (p if p.is_absolute() else root / p).resolve()
    if not p.is_file():
        raise FileNotFound(f"derivative {d['id']} is missing on disk")
    return p


def _record(request: Request, rt: Any, who: Principal, kind: str, **kw: Any) -> None:
    """Record the access before any byte is served (I5) — unless this is a HEAD, which serves none."""
    if not is_head(request):
        access.ensure_access_recorded(rt, who, kind, **kw)


def _serve_derivative(request: Request, rt: Any, d: dict[str, Any]) -> Response:
    path = _derived_path(rt, d)
    return _answer(request, ranged_response(
        request,
        size=path.stat().st_size,
        etag=f'"{d["sha256"]}"',
        media_type=d["mime"],
        reader=file_reader(path),
        last_modified=d["created_at"],
    ))


def _answer(request: Request, response: Response) -> Response:
    return headers_only(response) if is_head(request) else response


@router.get("/files", name="files.search", response_model=SearchPage, responses=problems())
def search(
    request: Request,
    who: Who,
    case_no: Annotated[str | None, Query(max_length=500, pattern=r"^[^\x00]*$")] = None,
    stage: Stage | None = None,
    officer: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")] = None,
    device: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")] = None,
    unit: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")] = None,
    recorded_from: Moment | None = None,
    recorded_to: Moment | None = None,
    flag: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")] = None,
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{6,64}$", description="digest or prefix")] = None,
    media_kind: Annotated[str | None, Query(pattern=r"^(video|audio|photo|unknown)$")] = None,
    held: bool | None = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**53, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Search stored originals, newest first; keyset pagination on id (stable under inserts)."""
    rows = search_files(
        runtime_of(request),
        case_no=case_no,
        stage=stage,
        officer=officer,
        device=device,
        unit=unit,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        flag=flag,
        sha256=sha256,
        media_kind=media_kind,
        held=held,
        cursor=cursor,
        limit=limit,
        visible=scope.file_sql(who),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": rows[-1]["id"] if more else None}


@router.get("/files/{sha256}", name="files.get", response_model=FileDetail, responses=problems(404))
def get_file(request: Request, who: Who, sha256: Digest) -> dict[str, Any]:
    """Metadata (no footage bytes): derivatives and case links."""
    rt = runtime_of(request)
    f = _file(rt, sha256)
    out = {k: f[k] for k in FileOut.model_fields}
    out["derivatives"] = rt.catalog.all(
        "SELECT id, kind, seq, sha256, size, mime, recipe, created_at FROM derivatives WHERE file_id = %s "
        "ORDER BY kind, seq",
        (f["id"],),
    )
    out["links"] = rt.catalog.all(
        "SELECT l.id, c.case_no, l.stage, l.activity_id, l.t_start_s, l.t_end_s, l.proves, l.linked_at, "
        "l.unlinked_at FROM links l JOIN cases c ON c.id = l.case_id WHERE l.file_id = %s ORDER BY l.id",
        (f["id"],),
    )
    return out


@router.get(
    "/files/{sha256}/proxy",
    name="files.proxy",
    response_class=Response,
    responses={**RANGE_DOC, **problems(404, 416, 428)},
)
def stream_proxy(
    request: Request, who: Who, sha256: Digest, purpose: PurposeQ = None, x_purpose: PurposeH = None
) -> Response:
    """Stream the playback proxy with HTTP Range (seekable by <video> and ffmpeg). Needs a purpose."""
    rt = runtime_of(request)
    why = _purpose(purpose, x_purpose)
    f = _file(rt, sha256)
    d = _derivative(rt, f["id"], "proxy")
    _record(request, rt, who, "stream", purpose=why, file=f, derivative_id=d["id"])
    return _serve_derivative(request, rt, d)


@router.get(
    "/files/{sha256}/original",
    name="files.original",
    response_class=Response,
    responses={**RANGE_DOC, **problems(404, 416)},
)
def download_original(
    request: Request,
    who: Who,
    sha256: Digest,
    request_id: Annotated[int | None, Query(ge=1, le=2**53, description="approved download request")] = None,
) -> Response:
    """The original, byte for byte from the store, with Range. Needs an approved download request.

    The whole original is re-hashed while it is sent; if it no longer matches its digest the transfer
    is cut before the last bytes, a failed ``fixity.check`` is logged and the file is flagged
    ``fixity_failed``. A HEAD answers the headers only: nothing is read, hashed or recorded."""
    rt = runtime_of(request)
    f = _file(rt, sha256)
    req = access.require_approved(rt, request_id, who, kind="download", sha256=f["sha256"])
    _record(request, rt, who, "download", purpose=req["purpose"], file=f, request_id=req["id"])
    key = f["storage_key"]
    mime = {"video": "video/mp4", "audio": "audio/wav", "photo": "image/jpeg"}.get(f["media_kind"], "")
    return _answer(request, ranged_response(
        request,
        size=int(f["size"]),
        etag=f'"{f["sha256"]}"',
        media_type=mime or "application/octet-stream",
        reader=store_reader(rt.store, key),
        last_modified=f["ingested_at"],
        filename=f"{f['sha256']}.{f['ext'] or 'bin'}",
        attachment=True,
        guard=DigestGuard(f["sha256"], lambda computed: access.record_corrupt_original(rt, who, f, computed)),
    ))


@router.get(
    "/files/{sha256}/thumbnails",
    name="files.thumbnails",
    response_model=list[ThumbnailOut],
    responses=problems(404),
)
def thumbnails(request: Request, who: Who, sha256: Digest) -> list[dict[str, Any]]:
    """Thumbnails and contact sheets (metadata and URLs; fetching one is a recorded view)."""
    rt = runtime_of(request)
    f = _file(rt, sha256)
    rows = rt.catalog.all(
        "SELECT id, kind, seq, mime, size, sha256 FROM derivatives WHERE file_id = %s "
        "AND kind IN ('thumbnail', 'contact_sheet') ORDER BY kind, seq",
        (f["id"],),
    )
    for r in rows:
        r["url"] = f"/files/{f['sha256']}/thumbnails/{r['seq']}" + ("?sheet=true" if r["kind"] != "thumbnail" else "")
    return rows


@router.get(
    "/files/{sha256}/thumbnails/{seq}",
    name="files.thumbnail",
    response_class=Response,
    responses={200: {"description": "image"}, **problems(404, 428)},
)
def thumbnail(
    request: Request,
    who: Who,
    sha256: Digest,
    seq: Annotated[int, Path(ge=0, le=1_000_000)],
    sheet: bool = False,
    purpose: PurposeQ = None,
    x_purpose: PurposeH = None,
) -> Response:
    rt = runtime_of(request)
    why = _purpose(purpose, x_purpose)
    f = _file(rt, sha256)
    d = _derivative(rt, f["id"], "contact_sheet" if sheet else "thumbnail", seq)
    _record(request, rt, who, "view", purpose=why, file=f, derivative_id=d["id"])
    return _serve_derivative(request, rt, d)


@router.get(
    "/files/{sha256}/preview",
    name="files.preview",
    response_class=Response,
    responses={**RANGE_DOC, **problems(404, 428)},
)
def preview(
    request: Request, who: Who, sha256: Digest, purpose: PurposeQ = None, x_purpose: PurposeH = None
) -> Response:
    """A photo preview (or the first thumbnail of a video)."""
    rt = runtime_of(request)
    why = _purpose(purpose, x_purpose)
    f = _file(rt, sha256)
    try:
        d = _derivative(rt, f["id"], "preview")
    except FileNotFound:
        d = _derivative(rt, f["id"], "thumbnail")
    _record(request, rt, who, "view", purpose=why, file=f, derivative_id=d["id"])
    return _serve_derivative(request, rt, d)


def _visible_matches(rt: Any, who: Principal, found: list[Any]) -> list[Any]:
    """The matches whose file ``who`` may see (``cases.scope.file_sql``); the others are not mentioned."""
    shas = [m.sha256 for m in found if hasattr(m, "sha256")]
    cond, params = scope.file_sql(who)
    rows = rt.catalog.all(f"SELECT f.sha256 FROM files f WHERE f.sha256 = ANY(%s) AND {cond}", (shas, *params))
    ok = {r["sha256"] for r in rows}
    return [m for m in found if getattr(m, "sha256", None) in ok]


MAX_MATCH_UPLOAD_BYTES = 512 * 1024 * 1024  # a clip to look up, not an archive: bounded disk and decode time


@router.post("/match", name="files.match", response_model=MatchOut, responses=problems(413, 503))
def match(request: Request, who: Who, upload: UploadFile) -> dict[str, Any]:
    """Which stored footage does this clip (e.g. a copy found elsewhere) come from? (perceptual match)
    Only footage of the caller's units (or linked to a case shared with them) is named.

    Uploads over 512 MiB are refused (413) while they stream in, before anything is decoded."""
    rt = runtime_of(request)
    suffix = FsPath(upload.filename or "clip.mp4").suffix[:10] or ".mp4"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        received = 0
        while chunk := upload.file.read(1 << 20):
            received += len(chunk)
            if received > MAX_MATCH_UPLOAD_BYTES:
                raise PayloadTooLarge(f"clip larger than {MAX_MATCH_UPLOAD_BYTES >> 20} MiB; cut the part to match")
            tmp.write(chunk)
        tmp.flush()
        try:
            found = match_file(rt, FsPath(tmp.name))
        except LiuhenError:
            raise
        except Exception as exc:  # a decoder's error on an unreadable upload is the client's problem
            raise InvalidRequest(f"cannot read the uploaded clip: {type(exc).__name__}: {exc}") from exc
    out = []
    for m in _visible_matches(rt, who, found):
        if hasattr(m, "__dataclass_fields__"):
            out.append(
                {
                    k: (v if isinstance(v, int | float | str | bool | type(None)) else str(v))
                    for k, v in dataclasses.asdict(m).items()
                }
            )
        else:
            out.append({"value": str(m)})
    return {"matches": out}
