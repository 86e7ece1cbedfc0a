"""Publication (公示), the anonymous public feed, working-day calendar, annual report figures, supervision feed.

``/public/…`` is the one route family besides ``/health`` that needs no login: it serves only texts that
a person approved (masked, checked for personal data) and that went out; nothing else.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from liuhen.api.auth import authorize
from liuhen.api.models import NO_CONTROLS, In, Integral, MultiLineNonBlank, NonBlank, PlainText
from liuhen.api.routes import CaseNoPath, problems, runtime_of
from liuhen.cases.principal import Principal
from liuhen.core.timefmt import utcnow
from liuhen.publication import annual, calendar_store, evaluation_service, public_feed, register
from liuhen.publication import dashboard as supervision_dashboard
from liuhen.publication.deadlines import CHINA_TZ
from liuhen.publication.evaluation import MAX_SCORE
from liuhen.publication.feed_format import parse_cursor
from liuhen.publication.feed_server import MAX_LIMIT, build_batch
from liuhen.publication.workdays import table_from_mapping

router = APIRouter()
Who = Annotated[Principal, Depends(authorize)]


class ApproveIn(In):
    conclusion: MultiLineNonBlank | None = Field(default=None, max_length=20000,
                                                 description="决定内容; the text is rebuilt, masked")
    text: MultiLineNonBlank | None = Field(default=None, max_length=50000,
                                           description="an edited public text (checked)")


class RevokeIn(In):
    reason: NonBlank = Field(max_length=2000)


# A day "YYYY-MM-DD" or an inclusive range "YYYY-MM-DD..YYYY-MM-DD" (liuhen.publication.workdays).
_DAY = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DayOrRange = Annotated[str, Field(pattern=rf"^{_DAY}(\.\.{_DAY})?$")]
CalendarYear = Annotated[int, Field(ge=1950, le=2199), Integral]


class YearTableIn(In):
    year: CalendarYear
    source: PlainText = Field(default="", max_length=500)
    holidays: list[DayOrRange] = Field(default_factory=list, max_length=400)
    workdays: list[DayOrRange] = Field(default_factory=list, max_length=400)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.get("/publications", name="publications.list", tags=["publication"], responses=problems())
def list_publications(
    request: Request, who: Who, which: Literal["all", "due", "overdue"] = "all"
) -> list[dict[str, Any]]:
    """Publication records: case, decision time, deadline (and whether it is provisional), state."""
    with runtime_of(request).catalog.tx() as conn:
        return [_plain(r) for r in register.listing(conn, which=which)]


@router.post("/publications/{case_no}/approve", name="publications.approve", tags=["publication"],
             responses=problems(404, 409))
def approve(request: Request, who: Who, case_no: CaseNoPath, body: ApproveIn) -> dict[str, Any]:
    """Approve the text to publish (refused, naming it, if it shows personal data)."""
    with runtime_of(request).catalog.tx() as conn:
        return _plain(register.approve(conn, case_no, who.name, conclusion=body.conclusion, text=body.text))


@router.post("/publications/{case_no}/publish", name="publications.publish", tags=["publication"],
             responses=problems(404, 409))
def publish(request: Request, who: Who, case_no: CaseNoPath) -> dict[str, Any]:
    with runtime_of(request).catalog.tx() as conn:
        return _plain(register.publish(conn, case_no, who.name))


@router.post("/publications/{case_no}/revoke", name="publications.revoke", tags=["publication"],
             responses=problems(404, 409))
def revoke(request: Request, who: Who, case_no: CaseNoPath, body: RevokeIn) -> dict[str, Any]:
    with runtime_of(request).catalog.tx() as conn:
        return _plain(register.revoke(conn, case_no, who.name, body.reason))


Agency = Annotated[str | None, Query(max_length=200, pattern=NO_CONTROLS)]


@router.get("/public/publications", name="public.publications", tags=["public"], responses=problems(public=True))
def public_json(request: Request, agency: Agency = None) -> list[dict[str, Any]]:
    """Anonymous: the approved, masked texts that are out (JSON)."""
    with runtime_of(request).catalog.tx() as conn:
        return public_feed.items(conn, agency=agency)


@router.get("/public/publications.html", name="public.publications_html", tags=["public"],
            response_class=HTMLResponse, responses=problems(public=True))
def public_html(request: Request, agency: Agency = None) -> HTMLResponse:
    """Anonymous: the same as an HTML page for the agency's portal."""
    rt = runtime_of(request)
    with rt.catalog.tx() as conn:
        return HTMLResponse(public_feed.render_html(public_feed.items(conn, agency=agency), rt.settings.display_tz))


@router.get("/calendar/status", name="calendar.status", tags=["publication"], responses=problems())
def calendar_status(request: Request, who: Who) -> list[dict[str, Any]]:
    """This year and the next: loaded, built-in or missing (deadlines there are provisional)."""
    with runtime_of(request).catalog.tx() as conn:
        return [s.as_json() for s in calendar_store.status(conn, utcnow().astimezone(CHINA_TZ).date())]


@router.post("/calendar/years", name="calendar.load", tags=["publication"], responses=problems())
def calendar_load(request: Request, who: Who, body: YearTableIn) -> dict[str, Any]:
    """Load a year's holidays and make-up working days (the loaded table wins); provisional deadlines are redone."""
    table = table_from_mapping(body.model_dump())
    with runtime_of(request).catalog.tx() as conn:
        return register.load_calendar(conn, table, who.name)


@router.get("/reports/annual", name="reports.annual", tags=["report"], responses=problems())
def annual_figures(request: Request, who: Who, year: Annotated[int, Query(ge=2000, le=2199)]) -> dict[str, Any]:
    """The annual report's figures at a freshly published checkpoint (``liuhen report annual`` writes the files)."""
    rt = runtime_of(request)
    return annual.figures_now(rt, year).as_json()


@router.get("/feed/batches", name="feed.batches", tags=["feed"], responses=problems(409))
def feed_batches(
    request: Request,
    who: Who,
    cursor: Annotated[str, Query(pattern=r"^v1:[0-9]{1,15}:[0-9]{1,15}$",
                                 description="v1:<next leaf index>:<last verified checkpoint size>")] = "v1:0:0",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 500,
) -> dict[str, Any]:
    """Supervision feed (liuhen.feed/v1): the next batch of the audit log after ``cursor``, with proofs (409 while
    no checkpoint is published, or for a cursor ahead of the latest one)."""
    return build_batch(runtime_of(request), parse_cursor(cursor), limit).as_json()


class FindingIn(In):
    code: NonBlank = Field(max_length=50)
    deduction: Annotated[int, Field(ge=0, le=MAX_SCORE), Integral]
    message: NonBlank = Field(max_length=2000)


@router.get("/evaluation/cases/{case_no}", name="evaluation.case", tags=["evaluation"], responses=problems(404))
def evaluation_case(request: Request, who: Who, case_no: CaseNoPath) -> dict[str, Any]:
    """Case-file evaluation (案卷评查): the automatic checklist plus manual findings, and the score."""
    rec, ev = evaluation_service.evaluate_case(runtime_of(request), case_no, register.today_cst())
    return {**ev.as_json(), "unit_code": rec.unit_code, "month": rec.month, "officers": list(rec.officers)}


@router.post("/evaluation/cases/{case_no}/findings", name="evaluation.finding_add", tags=["evaluation"],
             status_code=201, responses=problems(404))
def evaluation_finding(request: Request, who: Who, case_no: CaseNoPath, body: FindingIn) -> dict[str, Any]:
    """An evaluator's manual finding (logged as ``evaluation.finding``)."""
    return evaluation_service.add_finding(runtime_of(request), case_no, code=body.code, deduction=body.deduction,
                                          message=body.message, evaluator=who.name).as_json()


@router.get("/evaluation/rollup", name="evaluation.rollup", tags=["evaluation"], responses=problems())
def evaluation_rollup(
    request: Request, who: Who, by: Literal["unit", "officer", "month"] = "unit"
) -> list[dict[str, Any]]:
    """Evaluation scores rolled up per unit, officer or month."""
    return [r.as_json() for r in evaluation_service.rollups(runtime_of(request), by, register.today_cst())]


@router.get("/dashboard/supervision", name="dashboard.supervision", tags=["evaluation"],
            response_class=HTMLResponse, responses=problems())
def dashboard(request: Request, who: Who) -> HTMLResponse:
    """The supervisor's dashboard: publications due/overdue, evaluation scores by unit, monthly coverage."""
    return HTMLResponse(supervision_dashboard.render(runtime_of(request)))
