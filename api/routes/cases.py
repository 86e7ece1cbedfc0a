"""Cases, stages, legal reviews, activities, links, completeness, the recording list, exports."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from liuhen.api.auth import authorize
from liuhen.api.models import (
    UNIT_PATTERN,
    ActivityIn,
    ActivityOut,
    CaseDetail,
    CaseIn,
    CaseOut,
    Completeness,
    ExportIn,
    ExportOut,
    GrantIn,
    GrantOut,
    GrantRevokeOut,
    LegalReviewIn,
    LegalReviewOut,
    LinkIn,
    LinkOut,
    RecordingItem,
    Stage,
    StageIn,
    UnlinkIn,
)
from liuhen.api.routes import CaseNoPath, problems, runtime_of
from liuhen.cases import scope
from liuhen.cases import service as cases
from liuhen.cases.completeness import render_html
from liuhen.cases.principal import Principal
from liuhen.core.errors import InvalidRequest
from liuhen.core.timefmt import parse_utc
from liuhen.export.disclosure import run_disclosure
from liuhen.export.service import run_export

router = APIRouter(tags=["cases"])
Who = Annotated[Principal, Depends(authorize)]
CaseNo = CaseNoPath
UnitCode = Annotated[str, Path(min_length=1, max_length=64, pattern=UNIT_PATTERN, description="unit code")]


@router.get("/cases", name="cases.list", response_model=list[CaseOut], responses=problems())
def list_cases(
    request: Request, who: Who, stage: Stage | None = None, after_id: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Cases in id order (keyset: pass the last id as ``after_id``)."""
    return cases.list_cases(
        runtime_of(request),
        stage=stage,
        limit=max(1, min(limit, 1000)),
        after_id=max(0, min(after_id, 2**53)),
        visible=scope.case_sql(who),
    )


@router.post("/cases", name="cases.create", status_code=201, response_model=CaseOut, responses=problems(409))
def create_case(request: Request, who: Who, body: CaseIn) -> dict[str, Any]:
    """Open a case (立案). The case's unit defaults to the caller's; it must be one the caller acts for."""
    scope.check_new_case_unit(who, body.unit_code or who.unit_code)
    return cases.create_case(
        runtime_of(request),
        case_no=body.case_no,
        agency=body.agency,
        subject=body.subject,
        case_type=body.case_type,
        major=body.major,
        actor=who.name,
        unit_code=body.unit_code or who.unit_code,
    )


@router.get("/cases/{case_no}", name="cases.get", response_model=CaseDetail, responses=problems(404))
def get_case(request: Request, who: Who, case_no: CaseNo) -> dict[str, Any]:
    return cases.get_case(runtime_of(request), case_no)


@router.post("/cases/{case_no}/stage", name="cases.stage", response_model=CaseOut, responses=problems(404, 409))
def advance_stage(request: Request, who: Who, case_no: CaseNo, body: StageIn) -> dict[str, Any]:
    """Move to the next stage; a major case needs an approved legal review to enter 'decision'."""
    return cases.advance_stage(runtime_of(request), case_no, body.stage, who.name)


@router.post(
    "/cases/{case_no}/legal-reviews",
    name="cases.legal_review",
    status_code=201,
    response_model=LegalReviewOut,
    responses=problems(404, 409),
)
def legal_review(request: Request, who: Who, case_no: CaseNo, body: LegalReviewIn) -> dict[str, Any]:
    """Record a legal review (法制审核) by the calling legal reviewer."""
    return cases.record_legal_review(
        runtime_of(request), case_no, reviewer=who, opinion=body.opinion, approved=body.approved
    )


@router.post(
    "/cases/{case_no}/activities",
    name="cases.activity",
    status_code=201,
    response_model=ActivityOut,
    responses=problems(404, 409),
)
def add_activity(request: Request, who: Who, case_no: CaseNo, body: ActivityIn) -> dict[str, Any]:
    """Add an activity to a case stage. Its ``kind`` must be on the recording list (``GET /recording-list``):
    a kind that is not is refused with 409 (the list is data, changed with ``PUT /recording-list``)."""
    return cases.add_activity(
        runtime_of(request),
        case_no,
        stage=body.stage,
        kind=body.kind,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        place=body.place,
        officers=body.officers,
        actor=who.name,
        note=body.note,
    )


@router.post(
    "/cases/{case_no}/links",
    name="cases.link",
    status_code=201,
    response_model=LinkOut,
    responses=problems(404, 409),
)
def link(request: Request, who: Who, case_no: CaseNo, body: LinkIn) -> dict[str, Any]:
    """Link a clip (or a time range in it) to a stage/activity; the original goes under legal hold."""
    ref: str | int = int(body.file) if body.file.isdigit() and len(body.file) < 20 else body.file.lower()
    with runtime_of(request).catalog.tx() as conn:
        scope.check_file_ref(conn, who, ref)  # a clip of another unit is not yours to link (and hold)
    return cases.link_clip(
        runtime_of(request),
        case_no,
        ref,
        stage=body.stage,
        activity_id=body.activity_id,
        t_start_s=body.t_start_s,
        t_end_s=body.t_end_s,
        proves=body.proves,
        actor=who.name,
    )


@router.post(
    "/cases/{case_no}/links/{link_id}/unlink",
    name="cases.unlink",
    response_model=LinkOut,
    responses=problems(404, 409),
)
def unlink(
    request: Request, who: Who, case_no: CaseNo, link_id: Annotated[int, Path(ge=1, le=2**53)], body: UnlinkIn
) -> dict[str, Any]:
    """Unlink (history kept). The legal hold stays (``hold_released`` is false): only a supervisor releases
    it, with ``POST /holds/{sha256}/release``."""
    return cases.unlink(runtime_of(request), case_no, link_id, actor=who.name, reason=body.reason)


@router.get(
    "/cases/{case_no}/completeness",
    name="cases.completeness",
    response_model=Completeness,
    responses=problems(404),
)
def completeness(request: Request, who: Who, case_no: CaseNo) -> dict[str, Any]:
    return cases.completeness(runtime_of(request), case_no)


@router.get(
    "/cases/{case_no}/completeness.html",
    name="cases.completeness_html",
    response_class=HTMLResponse,
    responses=problems(404),
)
def completeness_html(request: Request, who: Who, case_no: CaseNo) -> HTMLResponse:
    return HTMLResponse(render_html(cases.completeness(runtime_of(request), case_no)))


@router.post(
    "/cases/{case_no}/grants",
    name="cases.grant",
    status_code=201,
    response_model=GrantOut,
    responses=problems(404),
)
def grant(request: Request, who: Who, case_no: CaseNo, body: GrantIn) -> dict[str, Any]:
    """Share the case with another unit (联合办案): that unit then acts on the case and its linked clips.
    Explicit and audited (``case.grant``); only a supervisor who acts for the case's unit grants."""
    return scope.grant(runtime_of(request), who, case_no, body.unit_code, body.reason)


@router.delete(
    "/cases/{case_no}/grants/{unit_code}",
    name="cases.grant_revoke",
    response_model=GrantRevokeOut,
    responses=problems(404),
)
def revoke_grant(request: Request, who: Who, case_no: CaseNo, unit_code: UnitCode) -> dict[str, Any]:
    """End the case's share with a unit (logged ``case.grant_revoke``): that unit no longer sees the case nor
    its clips. 404 if the case is not shared with the unit. Only a supervisor of the case's own unit revokes."""
    return scope.revoke_grant(runtime_of(request), who, case_no, unit_code)


@router.get("/recording-list", name="recording_list.get", response_model=list[RecordingItem], responses=problems())
def recording_list(request: Request, who: Who) -> list[dict[str, Any]]:
    """The recording list (音像记录事项清单): activity kind → full_av | av_as_needed | text."""
    return runtime_of(request).catalog.all("SELECT kind, recording, label FROM recording_list ORDER BY kind")


@router.put("/recording-list", name="recording_list.put", response_model=RecordingItem, responses=problems(409))
def put_recording_item(request: Request, who: Who, body: RecordingItem) -> dict[str, Any]:
    """Add or change one entry (existing activities keep the requirement they were created with).

    The change is audited (``recording_list.change``, with the previous value) in the same transaction.
    """
    return cases.set_recording_item(
        runtime_of(request), kind=body.kind, recording=body.recording, label=body.label, actor=who.name
    )



@router.post(
    "/cases/{case_no}/exports",
    name="cases.export",
    status_code=201,
    response_model=ExportOut,
    responses=problems(404, 503),
)
def export(request: Request, who: Who, case_no: CaseNo, body: ExportIn) -> dict[str, Any]:
    """Export a verifiable BagIt bag of the case (needs the caller's approved export request)."""
    rt = runtime_of(request)
    cases.get_case(rt, case_no)  # 404 before anything else
    t_from = parse_utc(body.t_from)
    t_to = parse_utc(body.t_to)
    if body.disclosure:
        if body.stage or t_from or t_to:
            raise InvalidRequest("a disclosure export takes no stage or time range")
        path, result = run_disclosure(rt, case_no, who, request_id=body.request_id, redaction_ids=body.redactions)
    else:
        path, result = run_export(rt, case_no, who, request_id=body.request_id, stage=body.stage, t_from=t_from,
                                  t_to=t_to)
    return {"case_no": case_no, "request_id": body.request_id, "path": path, "result": _plain(result)}


def _plain(result: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        d = dataclasses.asdict(result)
    elif isinstance(result, dict):
        d = result
    else:
        d = {"value": str(result)}
    return {
        k: (str(v) if not isinstance(v, int | float | str | bool | list | dict | type(None)) else v)
        for k, v in d.items()
    }
