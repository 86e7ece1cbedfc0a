"""The supervisor's dashboard as a console page: publications due and overdue (provisional deadlines flagged),
case-file evaluation scores by unit, monthly full-AV coverage — the figures of ``GET /dashboard/supervision``
(liuhen.publication.dashboard), drawn as inline SVG because the console's CSP admits no inline style and no
``data:`` images (the API's page uses both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from liuhen.console import labels
from liuhen.console.services import evaluation_service, monthly_coverage, publication_register
from liuhen.console.web import gate

router = APIRouter()
BAR_W = 600.0


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    w: float


def bars(values: dict[str, float], *, scale_max: float | None = None) -> list[Bar]:
    """Horizontal bars, ``BAR_W`` units for the largest value (or ``scale_max``, e.g. 100 for percentages)."""
    top = scale_max if scale_max is not None else max([*values.values(), 0.0])
    return [Bar(k, float(v), round(BAR_W * float(v) / top, 1) if top > 0 else 0.0) for k, v in values.items()]


@router.get("/supervision", name="console.supervision")
def supervision(request: Request) -> Response:
    ctx = gate(request, "console.supervision")
    rt = ctx.runtime
    today = publication_register.today_cst()
    with rt.catalog.tx() as conn:
        due = publication_register.listing(conn, which="due", today=today)
        overdue = publication_register.listing(conn, which="overdue", today=today)
    rollups = evaluation_service.rollups(rt, "unit", today)
    names = [ctx._(labels.MSG_NO_UNIT) if u.key == "(none)" else u.key for u in rollups]
    units = [{"unit": n, "r": u} for n, u in zip(names, rollups, strict=True)]
    coverage: Any = monthly_coverage(rt, today)
    return ctx.render(
        "supervision.html", today=today, due=due, overdue=overdue, units=units,
        unit_bars=bars({n: u.mean_score for n, u in zip(names, rollups, strict=True)}, scale_max=100.0),
        coverage_bars=bars(dict(coverage.values), scale_max=100.0), active="/supervision",
    )
