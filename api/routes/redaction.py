"""Redaction over HTTP: draft + preview, inspect, stream the copy (access event first), approve.

Creating a redaction records the request and queues the render job (``redaction.actors``): 202 with
the redaction (state ``draft``, ``job`` ``queued``) and ``Location: /redactions/{id}``; poll that until
``job`` is ``done`` (state ``rendered``) or ``failed``. Role rows (api.roles.MATRIX): create/list/get/copy
for staff, approve for supervisors only; the service also refuses approval by the drafter.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from liuhen.api.auth import authorize
from liuhen.api.routes import problems, runtime_of
from liuhen.api.streaming import file_reader, ranged_response
from liuhen.cases import access
from liuhen.cases.principal import Principal
from liuhen.redaction import actors, service
from liuhen.redaction.detect import STRIDE, DetectParams

router = APIRouter(tags=["redaction"])
Who = Annotated[Principal, Depends(authorize)]
Digest = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the original")]
RedactionId = Annotated[int, Path(ge=1, le=2**53)]
PurposeQ = Annotated[str | None, Query(max_length=500, description="why (调阅事由); or header X-Liuhen-Purpose")]
PurposeH = Annotated[str | None, Header(alias="X-Liuhen-Purpose", max_length=1500, include_in_schema=False)]
Ms = Annotated[int, Field(ge=0, le=86_400_000)]
Px = Annotated[int, Field(ge=0, le=100_000)]


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    t0_ms: Ms
    t1_ms: Ms


class Box(Range):
    x: Px
    y: Px
    w: Annotated[int, Field(ge=1, le=100_000)]
    h: Annotated[int, Field(ge=1, le=100_000)]


class RedactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    faces: bool = False
    boxes: list[Box] = Field(default_factory=list, max_length=1000)
    keep: list[Box] = Field(default_factory=list, max_length=100)
    mutes: list[Range] = Field(default_factory=list, max_length=1000)
    tone: bool = False
    method: Literal["blur", "pixelate", "fill"] = "blur"
    stride: Annotated[int, Field(ge=1, le=30)] = STRIDE
    detect_side: Literal[960, 1280, 1920] = 1280  # detect.DETECT_SIDE
    regions: dict[str, Any] | None = Field(None, description="A full region list (replaces the fields above)")


class RedactionOut(BaseModel):
    id: int
    file_id: int
    sha256: str
    state: str
    regions_sha256: str
    regions: int
    faces: int
    audio_ranges: list[dict[str, Any]]
    preview_sha256: str | None
    preview_size: int | None
    mime: str | None
    verified: bool | None
    verify_failures: list[str]
    error: str | None
    created_by: str
    created_at: Any
    approved_by: str | None
    approved_at: Any
    derivative_id: int | None
    job: str | None = None  # queued | running | done | failed (the render job)


class RedactionDetail(RedactionOut):
    region_list: dict[str, Any]
    detection: dict[str, Any] | None


def _boxes(items: list[Box]) -> list[tuple[int, int, tuple[int, int, int, int]]]:
    return [(b.t0_ms, b.t1_ms, (b.x, b.y, b.w, b.h)) for b in items]


@router.post("/files/{sha256}/redactions", name="redaction.create", response_model=RedactionOut, status_code=202,
             responses=problems(404, 409, 503))
def create(request: Request, response: Response, who: Who, sha256: Digest, body: RedactionIn) -> dict[str, Any]:
    """Draft a redaction and queue its render job (detect, track, render, verify); 202 — poll ``Location``."""
    req = service.Request(faces=body.faces, boxes=_boxes(body.boxes), keep=_boxes(body.keep),
                          mutes=[(m.t0_ms, m.t1_ms) for m in body.mutes], tone=body.tone, method=body.method,
                          regions=body.regions,
                          detect=DetectParams(stride=body.stride, method=body.method, max_side=body.detect_side))
    rt = runtime_of(request)
    rid = service.submit(rt, sha256, req, who.name)
    actors.enqueue(rid)
    response.headers["Location"] = f"/redactions/{rid}"
    return service.get(rt, rid)


@router.get("/files/{sha256}/redactions", name="redaction.list", response_model=list[RedactionOut],
            responses=problems(404))
def list_for_file(request: Request, who: Who, sha256: Digest) -> list[dict[str, Any]]:
    """Every redaction of an original, oldest first."""
    return service.list_for_file(runtime_of(request), sha256)


@router.get("/redactions/{redaction_id}", name="redaction.get", response_model=RedactionDetail,
            responses=problems(404))
def get(request: Request, who: Who, redaction_id: RedactionId) -> dict[str, Any]:
    """One redaction with its exact region list (edit it and POST it back as ``regions`` for a new draft)."""
    return service.get(runtime_of(request), redaction_id)


@router.get("/redactions/{redaction_id}/copy", name="redaction.copy", response_class=Response,
            responses=problems(404, 409, 416, 428))
def copy(request: Request, who: Who, redaction_id: RedactionId, purpose: PurposeQ = None,
         x_purpose: PurposeH = None) -> Response:
    """Stream the rendered copy (preview, or final once approved) with Range; the access is recorded first (I5)."""
    rt = runtime_of(request)
    why = access.check_purpose(purpose if purpose else (unquote(x_purpose) if x_purpose else None))
    path, row = service.preview_path(rt, redaction_id)
    f = rt.catalog.one("SELECT * FROM files WHERE id = %s", (row["file_id"],))
    access.ensure_access_recorded(rt, who, "stream", purpose=why, file=f, derivative_id=row["derivative_id"])
    return ranged_response(request, size=path.stat().st_size, etag=f'"{row["preview_sha256"]}"',
                           media_type=row["mime"], reader=file_reader(path), last_modified=row["created_at"])


@router.post("/redactions/{redaction_id}/approve", name="redaction.approve", response_model=RedactionOut,
             responses=problems(404, 409))
def approve(request: Request, who: Who, redaction_id: RedactionId) -> dict[str, Any]:
    """Approve a verified preview (a supervisor who did not draft it): it becomes the final derivative."""
    return service.approve(runtime_of(request), redaction_id, who.name)
