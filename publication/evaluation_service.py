"""Case-file evaluation on the catalog: gather a ``CaseRecord`` per case, evaluate, roll up; manual findings.

Inputs per case: the completeness report's findings (missing footage, coverage gaps, late uploads),
whether a major case entered 决定 without an approved legal review before it, its publication's
deadline and first publication day, and accesses from outside the case's unit (unusual access).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from liuhen.cases.access import record_event
from liuhen.cases.completeness import report as completeness_report
from liuhen.cases.rows import case_row
from liuhen.publication.deadlines import CHINA_TZ
from liuhen.publication.evaluation import (
    CaseRecord,
    Evaluation,
    Finding,
    RollUp,
    evaluate,
    manual_finding,
    roll_up,
)
from liuhen.runtime import Runtime


def _facts(rt: Runtime, case: dict[str, Any]) -> dict[str, Any]:
    with rt.catalog.tx() as conn:
        dec = conn.execute("SELECT min(entered_at) AS t FROM case_stages WHERE case_id = %s AND stage = 'decision'",
                           (case["id"],)).fetchone()
        decided = dec["t"] if dec else None
        review = conn.execute(
            "SELECT approved FROM legal_reviews WHERE case_id = %s AND reviewed_at <= %s "
            "ORDER BY reviewed_at DESC, id DESC LIMIT 1", (case["id"], decided)).fetchone() if decided else None
        review_ok = decided is None or not case["major"] or bool(review and review["approved"])
        pub = conn.execute("SELECT due_on, first_published_at FROM publications WHERE case_id = %s",
                           (case["id"],)).fetchone()
        unusual = conn.execute("SELECT count(*) AS n FROM access_events WHERE case_no = %s AND outside_unit",
                               (case["case_no"],)).fetchone()
        officers = conn.execute("SELECT DISTINCT unnest(officers) AS o FROM activities WHERE case_id = %s ORDER BY 1",
                                (case["id"],)).fetchall()
        manual = conn.execute("SELECT code, deduction, message, evaluator FROM evaluation_findings "
                              "WHERE case_id = %s ORDER BY id", (case["id"],)).fetchall()
    return {"decided": decided, "review_ok": review_ok, "pub": pub, "unusual": unusual["n"] if unusual else 0,
            "officers": [r["o"] for r in officers], "manual": manual}


def case_record(rt: Runtime, case_no: str) -> CaseRecord:
    with rt.catalog.tx() as conn:
        case = case_row(conn, case_no)
    f = _facts(rt, case)
    rep = completeness_report(rt, case_no)
    pub = f["pub"]
    first = pub["first_published_at"].astimezone(CHINA_TZ).date() if pub and pub["first_published_at"] else None
    month_of = f["decided"] or case["created_at"]
    return CaseRecord(
        case_no=case_no, unit_code=case["unit_code"], officers=tuple(f["officers"]),
        month=month_of.astimezone(CHINA_TZ).strftime("%Y-%m"),
        completeness_findings=[x for x in rep["findings"] if x["kind"] != "late_upload"],
        major_decision_without_review=not f["review_ok"],
        late_uploads=sum(1 for x in rep["findings"] if x["kind"] == "late_upload"),
        publication_due=pub["due_on"] if pub else None, published_on=first, unusual_access=int(f["unusual"]),
        manual=tuple(Finding(m["code"], m["deduction"], m["message"], True, m["evaluator"]) for m in f["manual"]),
    )


def evaluate_case(rt: Runtime, case_no: str, today: date) -> tuple[CaseRecord, Evaluation]:
    rec = case_record(rt, case_no)
    return rec, evaluate(rec, today)


def rollups(rt: Runtime, by: str, today: date, unit: str | None = None) -> list[RollUp]:
    """Evaluate every case (of ``unit``) and group by unit, officer or month."""
    rows = rt.catalog.all("SELECT case_no FROM cases WHERE %(u)s::text IS NULL OR unit_code = %(u)s ORDER BY id",
                          {"u": unit})
    return roll_up([evaluate_case(rt, r["case_no"], today) for r in rows], by)


def add_finding(rt: Runtime, case_no: str, *, code: str, deduction: int, message: str, evaluator: str) -> Finding:
    """An evaluator's manual finding, stored with its ``evaluation.finding`` event."""
    f = manual_finding(code, deduction, message, evaluator)
    with rt.catalog.tx() as conn:
        case = case_row(conn, case_no)
        ev = record_event(conn, "evaluation.finding", evaluator, subject={"case": case_no}, data=f.as_json())
        conn.execute("INSERT INTO evaluation_findings (case_id, code, deduction, message, evaluator, event_id) "
                     "VALUES (%s,%s,%s,%s,%s,%s)", (case["id"], f.code, f.deduction, f.message, f.by, ev))
    return f
