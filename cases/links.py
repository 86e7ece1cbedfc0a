"""Evidence links (a clip, or a time range in it, proving something in a case stage) and legal holds.

Legal hold: ``link_clip`` locks the file row, sets the hold in the store, then commits the link,
``files.legal_hold`` and the ``hold.set`` event together. If the commit fails after the store call,
the object stays held (the safe direction: over-retained, never under-retained). ``unlink`` never
releases a hold: only ``release_hold`` does — a supervisor's explicit act, refused while the file is
linked and for good once any case that ever linked it has reached 'decision' (evidence is kept
permanently, Art. 13).
"""

from __future__ import annotations

from typing import Any

import psycopg

from liuhen.cases.accessevents import record_event
from liuhen.cases.errors import FileNotFound
from liuhen.cases.principal import Principal
from liuhen.cases.retention import hold_for_link
from liuhen.cases.retention import release_hold as _release
from liuhen.cases.rows import case_row as _case_row
from liuhen.cases.values import check_stage, check_texts
from liuhen.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from liuhen.runtime import Runtime


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
    check_stage(stage)
    check_texts((("proves", proves),))
    for name, v in (("t_start_s", t_start_s), ("t_end_s", t_end_s)):
        if v is not None and v < 0:
            raise InvalidRequest(f"{name} must be >= 0")
    if t_start_s is not None and t_end_s is not None and t_end_s < t_start_s:
        raise InvalidRequest("t_end_s must be >= t_start_s")
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        f = _file_row(conn, sha256_or_file_id, lock=True)
        if f["status"] != "stored":  # the request is well formed; the file's state forbids it (409)
            raise Conflict(f"file {f['sha256']} is {f['status']}, not stored")
        if activity_id is not None:
            act = conn.execute("SELECT case_id, stage FROM activities WHERE id = %s", (activity_id,)).fetchone()
            if act is None or act["case_id"] != case["id"]:
                raise NotFound(f"activity {activity_id} does not belong to case {case_no}")
            if act["stage"] != stage:
                raise Conflict(f"activity {activity_id} is in stage {act['stage']!r}, not {stage!r}")
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
    check_texts((("reason", reason),))
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
    check_texts((("reason", reason),))
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
