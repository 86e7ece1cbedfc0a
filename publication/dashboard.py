"""The supervisor's dashboard (HTML, charts embedded): publications due and overdue, evaluation scores by
unit, monthly full-AV recording coverage. Served at ``GET /dashboard/supervision``; the console can embed
``render`` output as it is (one self-contained page, no network)."""

from __future__ import annotations

import base64
import html
from datetime import date, datetime
from typing import Any

from liuhen.core.timefmt import utcnow
from liuhen.publication import annual_catalog, evaluation_service, register
from liuhen.publication.charts import bar_chart_png
from liuhen.publication.deadlines import CHINA_TZ
from liuhen.publication.figures import Figure, figure
from liuhen.runtime import Runtime

MONTHS = 12


def _month_start(y: int, m: int) -> datetime:
    return datetime(y + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=CHINA_TZ)


def monthly_coverage(rt: Runtime, today: date, months: int = MONTHS) -> Figure:
    """Percent of full-AV activities fully covered by footage, per month (the last ``months``)."""
    as_of = utcnow()
    values: dict[str, float] = {}
    with rt.catalog.tx() as conn:
        for k in range(months - 1, -1, -1):
            a = _month_start(today.year, today.month - k)
            b = _month_start(today.year, today.month - k + 1)
            n, covered = annual_catalog.coverage(conn, a, b, as_of)
            values[a.strftime("%Y-%m")] = 100.0 * covered / n if n else 0.0
    return figure("coverage_by_month", "全程音像记录覆盖率（按月）", "percent", values)


def _img(f: Figure) -> str:
    if not f.values:
        return "<p>(no data)</p>"
    png = base64.b64encode(bar_chart_png(f)).decode()
    return f"<img alt='{html.escape(f.name)}' width=800 height=400 src='data:image/png;base64,{png}'>"


def _table(rows: list[dict[str, Any]]) -> str:
    e = html.escape
    body = "".join(f"<tr><td>{e(r['case_no'])}</td><td>{e(r['case_type'])}</td><td>{e(str(r['deadline']))}</td>"
                   f"<td>{e(r['state'])}</td></tr>" for r in rows)
    return f"<table><tr><th>案号</th><th>类别</th><th>期限</th><th>状态</th></tr>{body}</table>"


def render(rt: Runtime, today: date | None = None) -> str:
    today = today or register.today_cst()
    with rt.catalog.tx() as conn:
        due = register.listing(conn, which="due", today=today)
        overdue = register.listing(conn, which="overdue", today=today)
    pubs = figure("publications_open", "待公示与逾期", "decisions", {"due": len(due), "overdue": len(overdue)})
    scores = figure("evaluation_by_unit", "案卷评查平均分（按单位）", "score",
                    {r.key: r.mean_score for r in evaluation_service.rollups(rt, "unit", today)})
    cov = monthly_coverage(rt, today)
    return "".join([
        "<!doctype html><html lang=zh><head><meta charset=utf-8><title>执法监督看板</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px}</style></head><body>",
        f"<h1>执法监督看板</h1><p>{today.isoformat()}</p>",
        f"<h2>执法决定公示</h2>{_img(pubs)}<h3>逾期未公示 ({len(overdue)})</h3>{_table(overdue)}",
        f"<h3>待公示 ({len(due)})</h3>{_table(due)}",
        f"<h2>案卷评查</h2>{_img(scores)}",
        f"<h2>全程音像记录覆盖率</h2>{_img(cov)}",
        "</body></html>\n",
    ])
