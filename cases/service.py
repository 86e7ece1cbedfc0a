"""Case service functions, usable without HTTP (the CLI and ``liuhen demo`` call them directly).

Every state change records its audit event in the same transaction as the rows it describes
(``case.create``, ``activity.create``, ``stage.change``, ``legal_review``, ``link``, ``unlink``,
``hold.set``, ``hold.release``, ``recording_list.change``). Under the CLI every event also carries
``via: "cli"`` and ``os_user`` (``integrity.events.origin``, set by the shell).

Legal hold: ``link_clip`` locks the file row, sets the hold in the store, then commits the link,
``files.legal_hold`` and the ``hold.set`` event together. If the commit fails after the store call,
the object stays held (the safe direction: over-retained, never under-retained). ``unlink`` never
releases a hold: only ``release_hold`` does — a supervisor's explicit act, refused while the file is
linked and for good once any case that ever linked it has reached 'decision' (evidence is kept
permanently, Art. 13).

Legal reviews are recorded only by a ``Principal`` whose role is ``legal_reviewer`` — checked here,
not only by the HTTP role matrix, so the CLI and in-process callers cannot bypass the decision gate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from liuhen.cases.access import record_event
from liuhen.cases.completeness import report
from liuhen.cases.errors import FileNotFound, InvalidActivity, LegalReviewRequired, StageOrderError
from liuhen.cases.principal import Principal
from liuhen.cases.retention import hold_for_link
from liuhen.cases.retention import release_hold as _release
from liuhen.cases.rows import case_row as _case_row
from liuhen.catalog.stages import STAGES
from liuhen.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from liuhen.integrity.events import EVENT_TYPES
from liuhen.runtime import Runtime

CASE_TYPES = ("permit", "penalty", "coercive", "levy", "inspection")


def as_utc(value: datetime | str | None, what: str = "time") -> datetime | None:
    """A timezone-aware UTC datetime from a datetime or ISO 8601 string (naive = UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidRequest(f"{what}: not an ISO 8601 time: {value!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InvalidRequest(f"unknown stage {stage!r}; stages in order: {', '.join(STAGES)}")
    return stage


# A case number is one URL path segment (GET /cases/{case_no}): '/' and '\\' would make it unreachable.
# Real 案号 use 〔〕（）and full-width characters, all accepted: 京公（朝）行罚决字〔2024〕第123号.
CASE_NO_PATTERN = r"^[^\x00/\\]*[^\x00/\\.][^\x00/\\]*$"  # not only dots (".", "..": path segments)


def check_case_no(case_no: str) -> str:
    """``case_no`` stripped, or ``InvalidRequest`` naming what is wrong with it."""
    case_no = case_no.strip()
    if not re.fullmatch(CASE_NO_PATTERN, case_no):
        raise InvalidRequest(
            f"case number {case_no!r} cannot be used: it must not be empty or only dots, nor contain '/' or '\\' "
            "(a case number is addressed as /cases/<case_no>)"
        )
    return case_no


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


def recording_requirement(conn: psycopg.Connection[Any], kind: str) -> str:
    row = conn.execute("SELECT recording FROM recording_list WHERE kind = %s", (kind,)).fetchone()
    if row is None:
        kinds = [r["kind"] for r in conn.execute("SELECT kind FROM recording_list ORDER BY kind").fetchall()]
        raise InvalidActivity(f"activity kind {kind!r} is not on the recording list; known: {', '.join(kinds)}")
    return str(row["recording"])


def add_activity(
    runtime: Runtime,
    case_no: str,
    *,
    stage: str,
    kind: str,
    starts_at: datetime | str,
    ends_at: datetime | str,
    place: str | None = None,
    officers: list[str] | tuple[str, ...] = (),
    actor: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Add an activity (typed by the recording list) to a case stage; logs ``activity.create``."""
    _check_stage(stage)
    t0, t1 = as_utc(starts_at, "starts_at"), as_utc(ends_at, "ends_at")
    assert t0 is not None and t1 is not None
    if t1 < t0:
        raise InvalidActivity(f"activity ends ({t1.isoformat()}) before it starts ({t0.isoformat()})")
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        recording = recording_requirement(conn, kind)
        row = conn.execute(
            "INSERT INTO activities (case_id, stage, kind, recording, starts_at, ends_at, place, officers, note) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
            (case["id"], stage, kind, recording, t0, t1, place, list(officers), note),
        ).fetchone()
        assert row is not None
        record_event(
            conn,
            "activity.create",
            actor,
            subject={"case": case_no},
            data={
                "activity_id": row["id"],
                "stage": stage,
                "kind": kind,
                "recording": recording,
                "starts_at": t0.isoformat(),
                "ends_at": t1.isoformat(),
                "place": place,
                "officers": list(officers),
            },
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
    _check_stage(stage)
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


def _file_row(conn: psycopg.Connection[Any], ref: str | int, *, lock: bool = False) -> dict[str, Any]:
    suffix = " FOR UPDATE" if lock else ""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 20):
        row = conn.execute("SELECT * FROM files WHERE id = %s" + suffix, (int(ref),)).fetchone()
    else:
        row = conn.execute("SELECT * FROM files WHERE sha256 = %s" + suffix, (str(ref).lower(),)).fetchone()
    if row is None:
        raise FileNotFound(f"no stored file {ref!r}")
    return dict(row)


def link_clip(
    runtime: Runtime,
    case_no: str,
    sha256_or_file_id: str | int,
    *,
    stage: str,
    activity_id: int | None = None,
    t_start_s: float | None = None,
    t_end_s: float | None = None,
    proves: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """Link a clip (or a time range within it) to a case stage/activity and put the original on legal hold."""
    _check_stage(stage)
    for name, v in (("t_start_s", t_start_s), ("t_end_s", t_end_s)):
        if v is not None and v < 0:
            raise InvalidRequest(f"{name} must be >= 0")
    if t_start_s is not None and t_end_s is not None and t_end_s < t_start_s:
        raise InvalidRequest("t_end_s must be >= t_start_s")
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        f = _file_row(conn, sha256_or_file_id, lock=True)
        if f["status"] != "stored":
            raise InvalidRequest(f"file {f['sha256']} is {f['status']}, not stored")
        if activity_id is not None:
            act = conn.execute("SELECT case_id, stage FROM activities WHERE id = %s", (activity_id,)).fetchone()
            if act is None or act["case_id"] != case["id"]:
                raise InvalidRequest(f"activity {activity_id} does not belong to case {case_no}")
            if act["stage"] != stage:
                raise InvalidRequest(f"activity {activity_id} is in stage {act['stage']!r}, not {stage!r}")
        ev = record_event(
            conn,
            "link",
            actor,
            subject={"case": case_no, "sha256": f["sha256"]},
            data={
                "stage": stage,
                "activity_id": activity_id,
                "t_start_s": t_start_s,
                "t_end_s": t_end_s,
                "proves": proves,
            },
        )
        row = conn.execute(
            "INSERT INTO links (case_id, stage, activity_id, file_id, t_start_s, t_end_s, proves, linked_by, "
            "link_event_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
            (case["id"], stage, activity_id, f["id"], t_start_s, t_end_s, proves, actor, ev),
        ).fetchone()
        assert row is not None
        hold_for_link(conn, runtime.store, file=f, actor=actor, case_no=case_no, link_id=row["id"])
    out = dict(row)
    out["sha256"] = f["sha256"]
    return out


def unlink(
    runtime: Runtime,
    case_no: str,
    link_id: int,
    *,
    actor: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """Mark a link unlinked (the row and its history stay); logs ``unlink``.

    The legal hold is never released here (``hold_released`` is always False): evidence stays held
    until a supervisor releases it with ``release_hold``.
    """
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        link = conn.execute("SELECT * FROM links WHERE id = %s AND case_id = %s", (link_id, case["id"])).fetchone()
        if link is None:

            raise NotFound(f"no link {link_id} in case {case_no}")
        if link["unlinked_at"] is not None:

            raise Conflict(f"link {link_id} was already unlinked at {link['unlinked_at'].isoformat()}")
        f = _file_row(conn, int(link["file_id"]), lock=True)
        ev = record_event(
            conn,
            "unlink",
            actor,
            subject={"case": case_no, "sha256": f["sha256"]},
            data={"link_id": link_id, "reason": reason},
        )
        row = conn.execute(
            "UPDATE links SET unlinked_by = %s, unlinked_at = now(), unlink_event_id = %s WHERE id = %s RETURNING *",
            (actor, ev, link_id),
        ).fetchone()
        assert row is not None
    out = dict(row)
    out["sha256"] = f["sha256"]
    out["hold_released"] = False
    return out


def release_hold(runtime: Runtime, sha256: str, approver: Principal, reason: str) -> dict[str, Any]:
    """A supervisor releases the legal hold of an original (``hold.release``, actor = the supervisor).

    Refused unless ``approver`` is a supervisor (``Forbidden``) and ``reason`` is given; refused with
    409 while the file has an active link, and permanently once any case that ever linked it reached
    'decision' or later (``storage.retention.release_hold``). Retention still applies afterwards:
    the disposal job removes the original only once its retention has expired.
    """

    if not isinstance(approver, Principal) or approver.role != "supervisor":
        who = approver.name if isinstance(approver, Principal) else repr(approver)
        raise Forbidden(f"only a supervisor releases a legal hold; {who} is not one")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidRequest("releasing a legal hold needs a reason")
    with runtime.catalog.tx() as conn:
        f = _file_row(conn, sha256, lock=True)
        released = _release(
            conn,
            runtime.store,
            sha256=f["sha256"],
            actor=approver.name,
            reason=reason[:500],
            data={"role": approver.role},
        )
    return {"sha256": f["sha256"], "released": released, "released_by": approver.name, "reason": reason[:500]}


RECORDING_LIST_EVENT = "recording_list.change"


def set_recording_item(runtime: Runtime, *, kind: str, recording: str, label: str, actor: str) -> dict[str, Any]:
    """Add or change one recording-list entry; the change and its audit event commit together.

    Existing activities keep the requirement they were created with. Refused (``Conflict``, 409) rather
    than done unaudited while the audit event type is not registered in ``integrity.events``.
    """
    if RECORDING_LIST_EVENT not in EVENT_TYPES:

        raise Conflict(
            f"recording-list changes are audited as {RECORDING_LIST_EVENT!r}, which integrity.events does not "
            "know yet; refusing an unaudited change"
        )
    with runtime.catalog.tx() as conn:
        before = conn.execute(
            "SELECT recording, label FROM recording_list WHERE kind = %s FOR UPDATE", (kind,)
        ).fetchone()
        row = conn.execute(
            "INSERT INTO recording_list (kind, recording, label) VALUES (%s, %s, %s) ON CONFLICT (kind) DO UPDATE "
            "SET recording = EXCLUDED.recording, label = EXCLUDED.label RETURNING kind, recording, label",
            (kind, recording, label),
        ).fetchone()
        assert row is not None
        record_event(
            conn,
            RECORDING_LIST_EVENT,
            actor,
            data={
                "kind": kind,
                "recording": recording,
                "label": label,
                "before": dict(before) if before else None,
            },
        )
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
        params.append(_check_stage(stage))
    if unit_code:
        where.append("unit_code = %s")
        params.append(unit_code)
    return runtime.catalog.all(
        f"SELECT * FROM cases c WHERE {' AND '.join(where)} ORDER BY id LIMIT %s", (*params, limit)
    )


def completeness(runtime: Runtime, case_no: str) -> dict[str, Any]:
    """Completeness report; see ``api.completeness``."""

    return report(runtime, case_no)
