"""Case-file evaluation: each expected score is 100 minus the deductions listed in ``CHECKS``."""

from __future__ import annotations

from datetime import date

import pytest

from liuhen.publication.errors import EvaluationInputInvalid
from liuhen.publication.evaluation import CaseRecord, evaluate, manual_finding, roll_up

TODAY = date(2026, 12, 15)
MISSING = {"kind": "missing_av", "severity": "error", "stage": "investigation", "activity_kind": "seizure",
           "activity_id": 7}
GAP_FULL = {"kind": "coverage_gap", "severity": "error", "stage": "investigation", "activity_kind": "seizure",
            "activity_id": 8, "seconds": 95.0}
GAP_ASNEEDED = {"kind": "coverage_gap", "severity": "warning", "activity_id": 9}


def test_a_clean_case_scores_100() -> None:
    ev = evaluate(CaseRecord("C1", "U1", publication_due=date(2026, 12, 10), published_on=date(2026, 12, 10)), TODAY)
    assert (ev.score, ev.grade, ev.findings) == (100, "优秀", ())


def test_every_automatic_check() -> None:
    rec = CaseRecord(
        "C2", "U1", completeness_findings=[MISSING, GAP_FULL, GAP_ASNEEDED, {"kind": "no_av", "severity": "info"}],
        major_decision_without_review=True, late_uploads=2, publication_due=date(2026, 12, 10), unusual_access=1,
    )
    ev = evaluate(rec, TODAY)
    # 15 (missing) + 10 (gap in full AV; the as-needed gap does not count) + 30 + 2*5 + 10 (overdue) + 5 = 80
    assert [f.code for f in ev.findings] == ["AV-MISSING", "AV-GAP", "LR-MISSING", "UP-LATE", "UP-LATE",
                                              "PUB-OVERDUE", "ACC-UNUSUAL"]
    assert (ev.score, ev.grade) == (20, "不合格")
    assert "investigation/seizure #7" in ev.findings[0].message and "95 s" in ev.findings[1].message


def test_publication_late_vs_overdue_vs_not_yet_due() -> None:
    due = date(2026, 12, 10)
    assert [f.code for f in evaluate(CaseRecord("C", "U", publication_due=due, published_on=date(2026, 12, 11)),
                                     TODAY).findings] == ["PUB-LATE"]
    assert evaluate(CaseRecord("C", "U", publication_due=due), date(2026, 12, 10)).findings == ()
    assert [f.code for f in evaluate(CaseRecord("C", "U", publication_due=due), date(2026, 12, 11)).findings] == [
        "PUB-OVERDUE"]


def test_manual_findings_and_floor_at_zero() -> None:
    m = manual_finding("DOC-1", 45, "询问笔录缺签名", by="evaluator:li")
    ev = evaluate(CaseRecord("C", "U", manual=[m, m, m]), TODAY)
    assert ev.score == 0 and ev.findings[0].manual and ev.findings[0].by == "evaluator:li"
    with pytest.raises(EvaluationInputInvalid, match=r"deduction must be 0\.\.100"):
        manual_finding("X", -5, "adds points", by="x")
    with pytest.raises(EvaluationInputInvalid, match="needs a code"):
        manual_finding("X", 5, " ", by="x")


def test_roll_ups_per_unit_officer_month() -> None:
    recs = [
        CaseRecord("A", "U1", officers=["o1", "o2"], month="2026-11"),
        CaseRecord("B", "U1", officers=["o1"], month="2026-12", late_uploads=3),  # 85
        CaseRecord("C", "U2", officers=["o2", "o2"], month="2026-12", major_decision_without_review=True,
                   completeness_findings=[MISSING]),  # 100 - 30 - 15 = 55
    ]
    pairs = [(r, evaluate(r, TODAY)) for r in recs]
    units = {r.key: r for r in roll_up(pairs, "unit")}
    assert (units["U1"].cases, units["U1"].mean_score, units["U1"].min_score) == (2, 92.5, 85)
    assert (units["U2"].failing, units["U2"].findings) == (1, {"AV-MISSING": 1, "LR-MISSING": 1})
    officers = {r.key: r for r in roll_up(pairs, "officer")}
    assert officers["o1"].cases == 2 and officers["o2"].cases == 2  # o2 listed twice on C counts once
    assert officers["o2"].mean_score == 77.5
    months = {r.key: r.cases for r in roll_up(pairs, "month")}
    assert months == {"2026-11": 1, "2026-12": 2}
    with pytest.raises(EvaluationInputInvalid):
        roll_up(pairs, "week")
