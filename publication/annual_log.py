"""Annual figures computed from the audit log's signed prefix (leaves ``[0, size)``), which never changes (I6).

A figure counts events whose ``time`` falls in the year in China Standard Time. Each function takes the
events already read (``read_events``) so the whole report reads the log once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from liuhen.publication.deadlines import CHINA_TZ
from liuhen.publication.figures import Figure, figure

CASE_TYPES = ("permit", "penalty", "coercive", "levy", "inspection")
STAGES = ("filing", "investigation", "review", "decision", "service", "execution", "closure")
OUTCOME = {"filing": "open", "investigation": "open", "review": "open", "decision": "decided",
           "service": "decided", "execution": "decided", "closure": "closed"}
LOG_TYPES = ("case.create", "stage.change", "legal_review", "access.request", "access.approval", "export",
             "disposal", "publication.due", "publication.publish", "publication.update", "publication.revoke")


@dataclass(frozen=True)
class Ev:
    idx: int
    type: str
    time: datetime
    subject: dict[str, Any]
    data: dict[str, Any]


def read_events(conn: psycopg.Connection[Any], size: int, types: Sequence[str] = LOG_TYPES) -> list[Ev]:
    """The events of ``types`` among leaves ``[0, size)``, in log order."""
    rows = conn.execute(
        "SELECT idx, body FROM log_events WHERE idx < %s AND type = ANY(%s) ORDER BY idx", (size, list(types))
    ).fetchall()
    out = []
    for r in rows:  # the catalog's connections return dict rows
        d = json.loads(bytes(r["body"]))
        t = datetime.fromisoformat(d["time"].replace("Z", "+00:00"))
        out.append(Ev(int(r["idx"]), d["type"], t, d.get("subject") or {}, d.get("data") or {}))
    return out


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CHINA_TZ), datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)


def _in(ev: Ev, year: int) -> bool:
    a, b = year_bounds(year)
    return a <= ev.time < b


def _zero(keys: Iterable[str], counts: Counter[str]) -> dict[str, int]:
    out = {k: 0 for k in keys}
    out.update(counts)
    return out


def case_figures(events: Sequence[Ev], year: int) -> list[Figure]:
    """Cases opened in the year by type, by stage at year end and by outcome; decisions by type."""
    _, end = year_bounds(year)
    types = {e.subject.get("case"): e.data.get("case_type") for e in events if e.type == "case.create"}
    opened = [e.subject.get("case") for e in events if e.type == "case.create" and _in(e, year)]
    stage: dict[Any, str] = {}
    for e in events:
        if e.type == "stage.change" and e.time < end:
            stage[e.subject.get("case")] = str(e.data.get("to"))
    at_end = Counter(stage.get(c, "filing") for c in opened)
    decided = Counter(str(types.get(e.subject.get("case"))) for e in events
                      if e.type == "stage.change" and e.data.get("to") == "decision" and _in(e, year))
    return [
        figure("cases_by_type", "案件数（按执法类别，当年立案）", "cases",
               _zero(CASE_TYPES, Counter(str(types[c]) for c in opened))),
        figure("cases_by_stage", "当年立案案件年末所处阶段", "cases", _zero(STAGES, at_end)),
        figure("cases_by_outcome", "当年立案案件年末办理结果", "cases",
               _zero(("open", "decided", "closed"), Counter(OUTCOME[s] for s in at_end.elements()))),
        figure("decisions_by_type", "当年作出的执法决定（按类别）", "decisions", _zero(CASE_TYPES, decided)),
    ]


def oversight_figures(events: Sequence[Ev], year: int) -> list[Figure]:
    """Legal reviews, access requests/approvals/exports and disposals in the year."""
    ys = [e for e in events if _in(e, year)]
    reviews = [e for e in ys if e.type == "legal_review"]
    approvals = Counter(str(e.data.get("decision")) for e in ys if e.type == "access.approval")
    exports = [e for e in ys if e.type == "export" and e.data.get("phase") == "sealed"]
    return [
        figure("legal_reviews", "法制审核", "reviews", {
            "reviews": len(reviews), "approved": sum(1 for e in reviews if e.data.get("approved") is True),
            "rejected": sum(1 for e in reviews if e.data.get("approved") is False)}),
        figure("access", "调阅申请、审批与导出", "count", {
            "requests": sum(1 for e in ys if e.type == "access.request"),
            "approved": approvals.get("approved", 0), "rejected": approvals.get("rejected", 0),
            "exports": len(exports)}),
        figure("disposals", "到期销毁的原始记录", "originals", {
            "originals": sum(1 for e in ys if e.type == "disposal"),
            "bytes": sum(int(e.data.get("size") or 0) for e in ys if e.type == "disposal")}),
    ]


def _cst_day(t: datetime) -> date:
    return t.astimezone(CHINA_TZ).date()


def publication_figures(events: Sequence[Ev], year: int) -> list[Figure]:
    """Decisions of the year: published on time, late, not (yet) published; updates and revocations."""
    due: dict[Any, date] = {}
    for e in events:
        if e.type == "publication.due" and date.fromisoformat(str(e.data["decided_on"])).year == year:
            due[e.subject.get("case")] = date.fromisoformat(str(e.data["due_on"]))
    first: dict[Any, date] = {}
    for e in events:
        c = e.subject.get("case")
        if e.type == "publication.publish" and c in due and c not in first:
            first[c] = _cst_day(e.time)
    on_time = sum(1 for c, d in first.items() if d <= due[c])
    counted = {"publication.update": "updated", "publication.revoke": "revoked"}
    later = Counter(counted[e.type] for e in events if e.type in counted and e.subject.get("case") in due)
    return [figure("publications", "执法决定公示（当年决定）", "decisions", {
        "decisions": len(due), "on_time": on_time, "late": len(first) - on_time,
        "not_published": len(due) - len(first), "updated": later.get("updated", 0),
        "revoked": later.get("revoked", 0)})]
