"""Case-file evaluation (案卷评查): an automatic checklist with findings and a score — pure.

``evaluate(record)`` takes plain data gathered from the catalog (``CaseRecord``) and returns the
findings and a score out of 100: each finding deducts its points (``CHECKS``), the score never goes
below 0. Manual findings by evaluators carry their own deduction. Grades: 优秀 ≥ 90, 合格 ≥ 60, else
不合格. ``roll_up`` groups evaluations per unit, per officer (a case counts for every officer on it) or
per month (of the decision, else of filing).

Checklist (code — what — deduction):

- ``AV-MISSING`` a full-AV activity (全程音像记录) with no footage — 15 each
- ``AV-GAP``     a stretch of a full-AV activity no footage covers — 10 each
- ``LR-MISSING`` a major case entered 决定 without an approved legal review before it — 30
- ``UP-LATE``    footage stored more than 24 h after recording — 5 each
- ``PUB-OVERDUE`` the decision's publication is past its deadline and not published — 10
- ``PUB-LATE``   published after its deadline — 5
- ``ACC-UNUSUAL`` unusual access to the case's footage — 5 each
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from liuhen.publication.errors import EvaluationInputInvalid

CHECKS: dict[str, tuple[int, str]] = {
    "AV-MISSING": (15, "full-AV activity without footage (全程音像记录缺失)"),
    "AV-GAP": (10, "coverage gap in a full-AV activity (记录不连续)"),
    "LR-MISSING": (30, "major decision without an approved legal review before it (未经法制审核)"),
    "UP-LATE": (5, "footage stored more than 24 h after recording (超时上传)"),
    "PUB-OVERDUE": (10, "decision not published by its deadline (逾期未公示)"),
    "PUB-LATE": (5, "decision published after its deadline (逾期公示)"),
    "ACC-UNUSUAL": (5, "unusual access to the case's footage (异常调阅)"),
}
MAX_SCORE = 100


@dataclass(frozen=True)
class Finding:
    code: str
    deduction: int
    message: str
    manual: bool = False
    by: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "deduction": self.deduction, "message": self.message,
                "manual": self.manual, "by": self.by}


@dataclass(frozen=True)
class CaseRecord:
    """Plain data about one case. Publication fields: ``publication_due`` / ``published_on`` (None = not)."""

    case_no: str
    unit_code: str | None
    officers: Sequence[str] = ()
    month: str = ""  # "YYYY-MM"
    completeness_findings: Sequence[dict[str, Any]] = ()  # the completeness report's findings
    major_decision_without_review: bool = False
    late_uploads: int = 0
    publication_due: date | None = None
    published_on: date | None = None
    unusual_access: int = 0
    manual: Sequence[Finding] = field(default_factory=tuple)


@dataclass(frozen=True)
class Evaluation:
    case_no: str
    score: int
    grade: str
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        return {"case_no": self.case_no, "score": self.score, "grade": self.grade,
                "findings": [f.as_json() for f in self.findings]}


def _auto(code: str, detail: str = "") -> Finding:
    points, what = CHECKS[code]
    return Finding(code, points, what + (f": {detail}" if detail else ""))


def manual_finding(code: str, deduction: int, message: str, by: str) -> Finding:
    """An evaluator's finding; validated so a typo cannot add points or hide who wrote it."""
    if not code.strip() or not message.strip() or not by.strip():
        raise EvaluationInputInvalid("a manual finding needs a code, a message and the evaluator's name")
    if not 0 <= deduction <= MAX_SCORE:
        raise EvaluationInputInvalid(f"deduction must be 0..{MAX_SCORE}, got {deduction}")
    return Finding(code.strip(), deduction, message.strip(), manual=True, by=by.strip())


def _av_findings(findings: Iterable[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for f in findings:
        where = f"{f.get('stage', '?')}/{f.get('activity_kind', '?')} #{f.get('activity_id', '?')}"
        if f.get("kind") == "missing_av":
            out.append(_auto("AV-MISSING", where))
        elif f.get("kind") == "coverage_gap" and f.get("severity") == "error":
            out.append(_auto("AV-GAP", f"{where}, {float(f.get('seconds', 0)):.0f} s"))
    return out


def _publication_findings(rec: CaseRecord, today: date) -> list[Finding]:
    due, pub = rec.publication_due, rec.published_on
    if due is None:
        return []
    if pub is None:
        return [_auto("PUB-OVERDUE", f"due {due.isoformat()}")] if today > due else []
    if pub > due:
        return [_auto("PUB-LATE", f"due {due.isoformat()}, published {pub.isoformat()}")]
    return []


def grade(score: int) -> str:
    return "优秀" if score >= 90 else "合格" if score >= 60 else "不合格"


def evaluate(rec: CaseRecord, today: date) -> Evaluation:
    """The checklist over one case (see module docstring); ``today`` decides what is overdue."""
    found = _av_findings(rec.completeness_findings)
    if rec.major_decision_without_review:
        found.append(_auto("LR-MISSING"))
    found += [_auto("UP-LATE", f"{i + 1} of {rec.late_uploads}") for i in range(rec.late_uploads)]
    found += _publication_findings(rec, today)
    found += [_auto("ACC-UNUSUAL", f"{i + 1} of {rec.unusual_access}") for i in range(rec.unusual_access)]
    found += list(rec.manual)
    score = max(0, MAX_SCORE - sum(f.deduction for f in found))
    return Evaluation(rec.case_no, score, grade(score), tuple(found))


@dataclass(frozen=True)
class RollUp:
    key: str
    cases: int
    mean_score: float
    min_score: int
    failing: int
    findings: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "cases": self.cases, "mean_score": self.mean_score, "min_score": self.min_score,
                "failing": self.failing, "findings": self.findings}


def roll_up(pairs: Iterable[tuple[CaseRecord, Evaluation]], by: str) -> list[RollUp]:
    """Group evaluations by ``unit``, ``officer`` or ``month``; sorted by key."""
    if by not in ("unit", "officer", "month"):
        raise EvaluationInputInvalid(f"roll-up by {by!r}: use unit, officer or month")
    groups: dict[str, list[Evaluation]] = defaultdict(list)
    for rec, ev in pairs:
        keys = {"unit": [rec.unit_code or "(none)"], "month": [rec.month or "(none)"],
                "officer": list(dict.fromkeys(rec.officers)) or ["(none)"]}[by]
        for k in keys:
            groups[k].append(ev)
    out: list[RollUp] = []
    for key in sorted(groups):
        evs = groups[key]
        counts: dict[str, int] = defaultdict(int)
        for ev in evs:
            for f in ev.findings:
                counts[f.code] += 1
        scores = [ev.score for ev in evs]
        out.append(RollUp(key, len(evs), round(sum(scores) / len(scores), 2), min(scores),
                          sum(1 for s in scores if s < 60), dict(sorted(counts.items()))))
    return out
