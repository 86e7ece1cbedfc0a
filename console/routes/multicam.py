"""Multi-camera view of one activity: every clip linked to it, side by side, played in sync by corrected
recording time. One purpose form grants playback of all of them (one access event per clip, before any byte)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liuhen.console import timefmt
from liuhen.console.routes.footage import drift, grant_purpose, lookup_grant
from liuhen.console.services import completeness
from liuhen.console.web import Ctx, check_csrf, gate
from liuhen.core.errors import NotFound

router = APIRouter()


def _activity(ctx: Ctx, case_no: str, activity_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The activity and its clips (file rows with ``start_ms`` = corrected recording start)."""
    rep = completeness.report(ctx.runtime, case_no)
    act = next((a for a in rep["activities"] if a["id"] == activity_id), None)
    if act is None:
        raise NotFound(f"no activity {activity_id} in case {case_no}")
    mine = set(act["linked_segments"])
    shas = list(dict.fromkeys(s["sha256"] for s in rep["segments"] if s["link_id"] in mine))
    clips = []
    for sha in shas:
        f = ctx.runtime.catalog.one(
            "SELECT f.* FROM files f WHERE f.sha256 = %s AND f.media_kind = 'video' AND EXISTS "
            "(SELECT 1 FROM derivatives d WHERE d.file_id = f.id AND d.kind = 'proxy')", (sha,))
        if f is None or f["recorded_at"] is None:
            continue
        fixed = timefmt.corrected(f["recorded_at"], drift(ctx, f["id"]))
        clips.append({**f, "start_ms": timefmt.epoch_ms(fixed), "shown": timefmt.local(fixed, ctx.settings.zone)})
    return act, clips


@router.get("/cases/{case_no}/activities/{activity_id}/multicam", name="console.multicam")
def multicam(request: Request, case_no: str, activity_id: int, grants: str | None = None) -> Response:
    ctx = gate(request, "console.multicam")
    act, clips = _activity(ctx, case_no, activity_id)
    given = [g for g in (grants or "").split(",") if g]
    ok = bool(given) and len(given) == len(clips)
    if ok:
        for clip, g in zip(clips, given, strict=True):
            clip["grant"] = lookup_grant(ctx, g, clip["sha256"])["id"]
    start, end = act["starts_at"], act["ends_at"]
    return ctx.render(
        "multicam.html", c={"case_no": case_no}, a=act, clips=clips, grant_ok=ok,
        span_start_ms=timefmt.epoch_ms(start), span_end_ms=timefmt.epoch_ms(end),
        span_s=round((end - start).total_seconds(), 1), active="/cases",
    )


@router.post("/cases/{case_no}/activities/{activity_id}/multicam", name="console.multicam_purpose")
async def multicam_purpose(request: Request, case_no: str, activity_id: int) -> Response:
    ctx = gate(request, "console.multicam_purpose")
    form = await check_csrf(request, ctx)
    _act, clips = _activity(ctx, case_no, activity_id)
    ids = [str(grant_purpose(ctx, f, form.get("purpose", ""))) for f in clips]
    path = f"/cases/{quote(case_no, safe='')}/activities/{activity_id}/multicam?grants={','.join(ids)}"
    return RedirectResponse(ctx.url(path), status_code=303)
