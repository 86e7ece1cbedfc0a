"""Case-file evaluation on a real catalog: findings from completeness, publication and manual entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from liuhen.cases import service as cases
from liuhen.publication import evaluation_service as ev


def test_checklist_on_a_real_case_and_roll_up(runtime: Any) -> None:
    cases.create_case(runtime, case_no="E-1", agency="A", subject="张三", case_type="penalty", actor="c",
                      unit_code="U1")
    cases.add_activity(runtime, "E-1", stage="investigation", kind="seizure", starts_at="2026-11-02T01:00:00Z",
                       ends_at="2026-11-02T01:30:00Z", officers=["110101"], actor="c")
    cases.create_case(runtime, case_no="E-2", agency="A", subject="李四", case_type="levy", actor="c",
                      unit_code="U1")
    for stage in ("investigation", "review", "decision"):
        cases.advance_stage(runtime, "E-1", stage, "c")
    f = ev.add_finding(runtime, "E-1", code="DOC-1", deduction=8, message="询问笔录未签名", evaluator="eval:li")
    assert f.manual and f.by == "eval:li"
    due = runtime.catalog.one("SELECT due_on FROM publications WHERE case_no = 'E-1'")["due_on"]
    rec, e = ev.evaluate_case(runtime, "E-1", due + timedelta(days=1))
    # 100 - 15 (seizure needs full AV, none linked) - 10 (not published by the deadline) - 8 (manual) = 67
    assert [x.code for x in e.findings] == ["AV-MISSING", "PUB-OVERDUE", "DOC-1"] and e.score == 67
    assert rec.officers == ("110101",) and rec.unit_code == "U1"
    assert ev.evaluate_case(runtime, "E-1", due)[1].score == 77  # on the due day it is not overdue yet
    [unit] = ev.rollups(runtime, "unit", due + timedelta(days=1))
    assert (unit.key, unit.cases, unit.mean_score, unit.min_score) == ("U1", 2, 83.5, 67)
    n = runtime.catalog.one("SELECT count(*) AS n FROM log_events WHERE type = 'evaluation.finding'")["n"]
    assert n == 1
