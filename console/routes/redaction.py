"""Redaction from the player: draft (a box over a time range, faces, method, mute ranges), preview, approve.

The page is purpose-gated like the player: a purpose stated for the file (``footage.grant_purpose``,
access event committed first) unlocks the proxy and the previews for this session; each preview
response records its own ``stream`` access event before the first byte (I5). Drafting queues the
render job (``redaction.actors``); the list shows each redaction's state and job. A supervisor who
did not draft it approves a verified preview (``redaction.service.approve``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liuhen.console import pages
from liuhen.console.routes.footage import _file, grant_purpose, lookup_grant
from liuhen.console.services import access, file_reader, ranged_response
from liuhen.console.web import Ctx, check_csrf, gate
from liuhen.core.errors import InvalidRequest
from liuhen.redaction import actors, service
from liuhen.redaction.detect import DetectParams
from liuhen.redaction.regions import parse_range
from liuhen.redaction.regions_core import METHODS

router = APIRouter()


def _back(ctx: Ctx, sha256: str, grant: int | str) -> RedirectResponse:
    return RedirectResponse(ctx.url(f"/files/{sha256}/redact?{urlencode({'grant': grant})}"), status_code=303)


@router.get("/redactions", name="console.redactions")
def overview(request: Request) -> Response:
    ctx = gate(request, "console.redactions")
    rows = ctx.runtime.catalog.all(
        "SELECT r.id, r.state, r.params->'job'->>'status' AS job, r.created_by, r.created_at, r.approved_by, "
        "f.sha256 FROM redactions r JOIN files f ON f.id = r.file_id ORDER BY r.id DESC LIMIT 200")
    return ctx.render("redactions.html", rows=rows, active="/redactions")


@router.get("/files/{sha256}/redact", name="console.redact")
def page(request: Request, sha256: str, grant: str | None = None) -> Response:
    ctx = gate(request, "console.redact")
    f = _file(ctx, sha256)
    g = lookup_grant(ctx, grant, f["sha256"]) if grant else None
    proxy = ctx.runtime.catalog.one(
        "SELECT id FROM derivatives WHERE file_id = %s AND kind = 'proxy' ORDER BY seq LIMIT 1", (f["id"],))
    assert ctx.me is not None
    return ctx.render("redact.html", f=f, grant=g["id"] if g else None, purpose=g["purpose"] if g else None,
                      proxy=proxy, redactions=service.list_for_file(ctx.runtime, f["sha256"]) if g else [],
                      methods=METHODS, can_approve=pages.allowed("console.redaction_approve", ctx.me.role),
                      active="/redactions")


@router.post("/files/{sha256}/redact/purpose", name="console.redact_purpose")
async def purpose(request: Request, sha256: str) -> Response:
    ctx = gate(request, "console.redact_purpose")
    form = await check_csrf(request, ctx)
    f = _file(ctx, sha256)
    return _back(ctx, f["sha256"], grant_purpose(ctx, f, form.get("purpose", "")))


def _int(form: dict[str, str], key: str) -> int:
    try:
        return round(float(form.get(key, "")))
    except (ValueError, OverflowError) as exc:
        raise InvalidRequest(f"{key}: not a number") from exc


def scale_box(form: dict[str, str], f: dict[str, Any]) -> tuple[int, int, int, int] | None:
    """The drawn box (proxy pixels ``vw``×``vh``) in the original's pixels (``media_info`` size when known)."""
    if not form.get("w") or not form.get("h"):
        return None
    x, y, w, h, vw, vh = (_int(form, k) for k in ("x", "y", "w", "h", "vw", "vh"))
    info = f.get("media_info") or {}
    ow, oh = info.get("width") or vw, info.get("height") or vh
    if min(vw, vh, w, h) <= 0:
        raise InvalidRequest("draw a box on the picture first")
    return x * ow // vw, y * oh // vh, max(1, w * ow // vw), max(1, h * oh // vh)


def request_of(form: dict[str, str], f: dict[str, Any]) -> service.Request:
    method = form.get("method", "blur")
    if method not in METHODS:
        raise InvalidRequest(f"method: one of {', '.join(METHODS)}")
    box = scale_box(form, f)
    boxes = []
    if box is not None:
        t0, t1 = _int(form, "t0_ms"), _int(form, "t1_ms")
        if t1 < t0:
            raise InvalidRequest("the box's end time is before its start")
        boxes.append((t0, t1, box))
    mutes = [parse_range(s.strip()) for s in form.get("mutes", "").split(",") if s.strip()]
    faces = form.get("faces") == "on"
    if not boxes and not faces and not mutes:
        raise InvalidRequest("nothing to hide: draw a box, tick faces or give a mute range")
    return service.Request(faces=faces, boxes=boxes, mutes=mutes, method=method, detect=DetectParams(method=method))


@router.post("/files/{sha256}/redactions", name="console.redaction_create")
async def create(request: Request, sha256: str) -> Response:
    ctx = gate(request, "console.redaction_create")
    form = await check_csrf(request, ctx)
    f = _file(ctx, sha256)
    g = lookup_grant(ctx, form.get("grant"), f["sha256"])
    rid = service.submit(ctx.runtime, f["sha256"], request_of(form, f), ctx.principal.name)
    actors.enqueue(rid)
    return _back(ctx, f["sha256"], g["id"])


@router.get("/redactions/{redaction_id}/preview", name="console.redaction_preview")
def preview(request: Request, redaction_id: int, grant: str | None = None) -> Response:
    ctx = gate(request, "console.redaction_preview")
    path, row = service.preview_path(ctx.runtime, redaction_id)
    f = ctx.runtime.catalog.one("SELECT * FROM files WHERE id = %s", (row["file_id"],))
    assert f is not None
    g = lookup_grant(ctx, grant, f["sha256"])
    access.ensure_access_recorded(ctx.runtime, ctx.principal, "stream", purpose=g["purpose"], file=f,
                                  derivative_id=row["derivative_id"])
    resp = ranged_response(request, size=path.stat().st_size, etag=f'"{row["preview_sha256"]}"',
                           media_type=row["mime"], reader=file_reader(path), last_modified=row["created_at"])
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.post("/redactions/{redaction_id}/approve", name="console.redaction_approve")
async def approve(request: Request, redaction_id: int) -> Response:
    ctx = gate(request, "console.redaction_approve")
    form = await check_csrf(request, ctx)
    _, row = service.preview_path(ctx.runtime, redaction_id)
    service.approve(ctx.runtime, redaction_id, ctx.principal.name)
    return _back(ctx, row["sha256"], form.get("grant", ""))
