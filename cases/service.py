"""Case service functions, usable without HTTP (the CLI and ``liuhen demo`` call them directly).

Every state change records its audit event in the same transaction as the rows it describes
(``case.create``, ``activity.create``, ``stage.change``, ``legal_review``, ``link``, ``unlink``,
``hold.set``, ``hold.release``, ``recording_list.change``). Under the CLI every event also carries
``via: "cli"`` and ``os_user`` (``integrity.events.origin``, set by the shell).

Activities and the recording list live in ``cases.activities``, links and legal holds in ``cases.links``,
value checks (times, stages, case numbers, the text rule) in ``cases.values``; their public functions are
re-exported here, so ``from liuhen.cases import service as cases`` reaches every case action. Every text
field is checked against the text rule (``liuhen.core.text``) before anything is written.

Legal reviews are recorded only by a ``Principal`` whose role is ``legal_reviewer`` — checked here,
not only by the HTTP role matrix, so the CLI and in-process callers cannot bypass the decision gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from liuhen.cases.accessevents import record_event
from liuhen.cases.activities import RECORDING_LIST_EVENT, add_activity, recording_requirement, set_recording_item
from liuhen.cases.completeness import report
from liuhen.cases.errors import LegalReviewRequired, StageOrderError
from liuhen.cases.links import link_clip, release_hold, unlink
from liuhen.cases.principal import Principal
from liuhen.cases.rows import case_row as _case_row
from liuhen.cases.values import CASE_NO_PATTERN, check_case_no, check_stage, check_texts
from liuhen.catalog.stages import STAGES
from liuhen.core.errors import Conflict, Forbidden, InvalidRequest
from liuhen.runtime import Runtime

__all__ = [  # the case actions, including those re-exported from cases.activities/links/values
    "CASE_NO_PATTERN", "CASE_TYPES", "RECORDING_LIST_EVENT", "STAGE_HOOKS", "add_activity", "advance_stage",
    "check_case_no", "completeness", "create_case", "get_case", "link_clip", "list_cases",
    "record_legal_review", "recording_requirement", "release_hold", "set_recording_item", "unlink",
]

CASE_TYPES = ("permit", "penalty", "coercive", "levy", "inspection")


def create_case(
    runtime: Runtime,
    *,
    case_no: str,
    agency: str,
    subject: str,
    case_type: str,
    major: bool = False,
    actor: str,
    unit_code: str | None = None,
) -> dict[str, Any]:
    """Open a case in stage 'filing' (立案); ``case.create`` and the first ``stage.change`` are logged."""
    case_no = check_case_no(case_no)
    check_texts((("agency", agency), ("subject", subject), ("unit_code", unit_code)))
    if not agency.strip() or not subject.strip():
        raise InvalidRequest("case_no, agency and subject must not be empty")
    if case_type not in CASE_TYPES:
        raise InvalidRequest(f"unknown case type {case_type!r}; one of {', '.join(CASE_TYPES)}")
    with runtime.catalog.tx() as conn:
        if conn.execute("SELECT 1 FROM cases WHERE case_no = %s", (case_no,)).fetchone():

            raise Conflict(f"case {case_no!r} already exists")
        row = conn.execute(
            "INSERT INTO cases (case_no, agency, unit_code, subject, case_type, major, created_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *",
            (case_no, agency, unit_code, subject, case_type, major, actor),
        ).fetchone()
        assert row is not None
        data = {"agency": agency, "subject": subject, "case_type": case_type, "major": major}
        if unit_code:
            data["unit_code"] = unit_code
        record_event(conn, "case.create", actor, subject={"case": case_no}, data=data)
        ev = record_event(conn, "stage.change", actor, subject={"case": case_no}, data={"to": "filing"})
        conn.execute(
            "INSERT INTO case_stages (case_id, stage, entered_by, event_id) VALUES (%s, 'filing', %s, %s)",
            (row["id"], actor, ev),
        )
    return dict(row)


StageHook = Callable[[psycopg.Connection[Any], dict[str, Any], str], None]
# Run inside the stage-change transaction with (conn, the case row as it now is, actor). Higher layers
# (e.g. the publication register, which opens a record when a case enters 决定) register here through the
# application shell, so this layer never imports them. A hook that raises rolls the stage change back.
STAGE_HOOKS: list[StageHook] = []


def advance_stage(runtime: Runtime, case_no: str, stage: str, actor: str) -> dict[str, Any]:
    """Move a case to the next stage. Stages go forward one at a time.

    A major case cannot enter 'decision' (决定) unless its latest legal review approved it
    (未经法制审核或审核未通过的，不得作出决定): ``LegalReviewRequired``.
    """
    check_stage(stage)
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no, lock=True)
        cur = STAGES.index(case["stage"])
        want = STAGES.index(stage)
        if want != cur + 1:
            nxt = STAGES[cur + 1] if cur + 1 < len(STAGES) else None
            raise StageOrderError(
                f"case {case_no} is in stage {case['stage']!r}; it can only move to "
                + (f"{nxt!r}" if nxt else "nothing (closed)")
                + f", not {stage!r}"
            )
        if stage == "decision" and case["major"]:
            review = conn.execute(
                "SELECT approved, reviewer FROM legal_reviews WHERE case_id = %s "
                "ORDER BY reviewed_at DESC, id DESC LIMIT 1",
                (case["id"],),
            ).fetchone()
            if review is None or not review["approved"]:
                why = "has no legal review" if review is None else "latest legal review rejected it"
                raise LegalReviewRequired(
                    f"major case {case_no} cannot enter 'decision': it {why} (未经法制审核或审核未通过的，不得作出决定)"
                )
        ev = record_event(
            conn, "stage.change", actor, subject={"case": case_no}, data={"from": case["stage"], "to": stage}
        )
        conn.execute("UPDATE cases SET stage = %s WHERE id = %s", (stage, case["id"]))
        conn.execute(
            "INSERT INTO case_stages (case_id, stage, entered_by, event_id) VALUES (%s, %s, %s, %s)",
            (case["id"], stage, actor, ev),
        )
        case["stage"] = stage
        for hook in STAGE_HOOKS:
            hook(conn, case, actor)
    return case


def record_legal_review(
    runtime: Runtime, case_no: str, *, reviewer: Principal, opinion: str, approved: bool
) -> dict[str, Any]:
    """Record a legal review (法制审核) while the case is in stage 'review'; logs ``legal_review``.

    ``reviewer`` must be a ``Principal`` with role ``legal_reviewer`` (``Forbidden`` otherwise): an
    approved review opens the major-decision gate, so who may record one is checked here, for every
    caller (HTTP, CLI, in-process).
    """
    if not isinstance(reviewer, Principal):
        raise Forbidden(
            "a legal review is recorded by a legal reviewer: pass reviewer=Principal(name, 'legal_reviewer'), "
            f"not {type(reviewer).__name__}"
        )
    if reviewer.role != "legal_reviewer":
        raise Forbidden(f"only a legal reviewer records a legal review; {reviewer.name} is {reviewer.role}")
    check_texts((("opinion", opinion),))
    if not opinion.strip():
        raise InvalidRequest("a legal review needs an opinion")
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no, lock=True)
        if case["stage"] != "review":
            raise StageOrderError(
                f"legal review is recorded in stage 'review' (审查); case {case_no} is in {case['stage']!r}"
            )
        ev = record_event(
            conn,
            "legal_review",
            reviewer.name,
            subject={"case": case_no},
            data={"approved": bool(approved), "opinion": opinion, "role": reviewer.role},
        )
        row = conn.execute(
            "INSERT INTO legal_reviews (case_id, reviewer, opinion, approved, event_id) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING *",
            (case["id"], reviewer.name, opinion, bool(approved), ev),
        ).fetchone()
        assert row is not None
    return dict(row)


def get_case(runtime: Runtime, case_no: str) -> dict[str, Any]:
    """The case with its stage history, legal reviews, activities and links (active and unlinked)."""
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        cid = case["id"]
        case["stages"] = conn.execute(
            "SELECT stage, entered_at, entered_by FROM case_stages WHERE case_id = %s ORDER BY entered_at, id",
            (cid,),
        ).fetchall()
        case["legal_reviews"] = conn.execute(
            "SELECT id, reviewer, opinion, approved, reviewed_at FROM legal_reviews WHERE case_id = %s "
            "ORDER BY reviewed_at, id",
            (cid,),
        ).fetchall()
        case["activities"] = conn.execute(
            "SELECT * FROM activities WHERE case_id = %s ORDER BY starts_at, id", (cid,)
        ).fetchall()
        case["links"] = conn.execute(
            "SELECT l.*, f.sha256 FROM links l JOIN files f ON f.id = l.file_id WHERE l.case_id = %s ORDER BY l.id",
            (cid,),
        ).fetchall()
    return case


def list_cases(
    runtime: Runtime,
    *,
    stage: str | None = None,
    unit_code: str | None = None,
    limit: int = 100,
    after_id: int = 0,
    visible: tuple[str, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Cases in id order; ``visible``: an SQL condition on alias ``c`` (``cases.scope.case_sql``)."""
    where: list[str] = ["id > %s"]
    params: list[object] = [after_id]
    if visible is not None:
        where.append(visible[0])
        params += visible[1]
    if stage:
        where.append("stage = %s")
        params.append(check_stage(stage))
    if unit_code:
        where.append("unit_code = %s")
        params.append(unit_code)
    return runtime.catalog.all(
        f"SELECT * FROM cases c WHERE {' AND '.join(where)} ORDER BY id LIMIT %s", (*params, limit)
    )


def completeness(runtime: Runtime, case_no: str) -> dict[str, Any]:
    """Completeness report; see ``api.completeness``."""

    return report(runtime, case_no)
