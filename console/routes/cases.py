"""Cases: list and filters, the case page (stage timeline, legal-review gate, activities, completeness SVG)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liuhen.console import labels, pages, timeline
from liuhen.console.services import STAGES, case_service, completeness
from liuhen.console.web import Ctx, check_csrf, gate

router = APIRouter()


def _stages() -> list[tuple[str, str]]:
    return [(s, labels.stage_label(s)) for s in STAGES]


@router.get("/cases", name="console.cases")
def case_list(request: Request, stage: str | None = None, q: str | None = None) -> Response:
    ctx = gate(request, "console.cases")
    rows = case_service.list_cases(ctx.runtime, stage=stage if stage in STAGES else None, limit=500)
    if q:
        needle = q.casefold()
        rows = [r for r in rows if needle in r["case_no"].casefold() or needle in (r["subject"] or "").casefold()]
    return ctx.render("cases.html", cases=rows, stages=_stages(), f={"stage": stage, "q": q}, active="/cases")


def decision_blocked(case: dict[str, Any]) -> bool:
    """A major case cannot enter 'decision' until its latest legal review approved (the service enforces it too)."""
    if not case["major"]:
        return False
    reviews = case.get("legal_reviews") or []
    return not (reviews and reviews[-1]["approved"])


def _case_page(ctx: Ctx, case_no: str, status: int = 200, flash: str | None = None) -> Response:
    c = case_service.get_case(ctx.runtime, case_no)
    rep = completeness.report(ctx.runtime, case_no)
    idx = STAGES.index(c["stage"])
    next_stage = STAGES[idx + 1] if idx + 1 < len(STAGES) else None
    assert ctx.me is not None
    return ctx.render(
        "case.html", status=status, c=c, rep=rep, stages=_stages(), reached=set(STAGES[: idx + 1]),
        stage_times={s["stage"]: s["entered_at"] for s in c["stages"]}, reviews=c["legal_reviews"],
        next_stage=next_stage, decision_blocked=next_stage == "decision" and decision_blocked(c),
        can_advance=pages.allowed("console.case_stage", ctx.me.role),
        can_review=pages.allowed("console.case_review", ctx.me.role) and c["stage"] == "review",
        timelines=timeline.timelines(rep), flash=flash, active="/cases",
    )


@router.get("/cases/{case_no}", name="console.case")
def case_page(request: Request, case_no: str) -> Response:
    return _case_page(gate(request, "console.case"), case_no)


@router.post("/cases/{case_no}/stage", name="console.case_stage")
async def advance(request: Request, case_no: str) -> Response:
    ctx = gate(request, "console.case_stage")
    form = await check_csrf(request, ctx)
    assert ctx.me is not None
    case_service.advance_stage(ctx.runtime, case_no, form.get("stage", ""), ctx.me.name)
    return RedirectResponse(ctx.url(f"/cases/{case_no}"), status_code=303)


@router.post("/cases/{case_no}/review", name="console.case_review")
async def review(request: Request, case_no: str) -> Response:
    ctx = gate(request, "console.case_review")
    form = await check_csrf(request, ctx)
    case_service.record_legal_review(
        ctx.runtime, case_no, reviewer=ctx.principal, opinion=form.get("opinion", ""),
        approved=form.get("approved") == "1",
    )
    return RedirectResponse(ctx.url(f"/cases/{case_no}"), status_code=303)
