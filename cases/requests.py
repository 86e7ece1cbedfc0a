"""Access requests (调阅申请) and their approval by a supervisor: downloads of originals and case exports
need an approved, unexpired request that covers them (``require_approved``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from liuhen.cases import scope
from liuhen.cases.accessevents import check_purpose, record_access
from liuhen.cases.errors import ApprovalRequired, CaseNotFound, FileNotFound
from liuhen.cases.principal import Principal
from liuhen.cases.values import check_texts
from liuhen.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from liuhen.runtime import Runtime


def _in_scope(conn: psycopg.Connection[Any], who: Principal, case_no: str | None, shas: Iterable[str]) -> bool:
    """Whether every object a request names is within ``who``'s units (``cases.scope``)."""
    try:
        if case_no:
            scope.check_case(conn, who, case_no)
        for sha in shas:
            scope.check_file(conn, who, sha)
    except (CaseNotFound, FileNotFound):
        return False
    return True


# Roles that see no catalog: a request naming an unknown case or digest is accepted (201) exactly like
# one naming a real object, so the answer cannot be used to probe what exists; the supervisor deciding
# it sees what is (not) stored, and an approval of something unknown serves nothing.
BLIND_ROLES = frozenset({"external"})


def create_request(
    runtime: Runtime,
    who: Principal,
    *,
    kind: str,
    purpose: str,
    case_no: str | None = None,
    files: Iterable[str] = (),
) -> dict[str, Any]:
    """Ask to download originals (of a case, or listed digests) or to export a case; logs ``access.request``."""
    check_texts((("case_no", case_no), ("files", list(files))))
    purpose = check_purpose(purpose)
    shas = sorted({s.lower() for s in files})
    if kind not in ("download", "export"):
        raise InvalidRequest("kind must be 'download' or 'export'")
    if kind == "export" and not case_no:
        raise InvalidRequest("an export request names a case")
    if not case_no and not shas:
        raise InvalidRequest("name a case or at least one file digest")
    blind = who.role in BLIND_ROLES  # may not learn what exists: same answer for real and unknown objects
    with runtime.catalog.tx() as conn:
        case_unit = None
        if case_no:
            c = conn.execute("SELECT unit_code FROM cases WHERE case_no = %s", (case_no,)).fetchone()
            if c is None and not blind:
                raise NotFound(f"no case {case_no!r}")
            case_unit = c["unit_code"] if c else None
        if shas:
            found = conn.execute("SELECT count(*) AS n FROM files WHERE sha256 = ANY(%s)", (shas,)).fetchone()
            if (found is None or found["n"] != len(shas)) and not blind:
                raise NotFound("one or more requested files are not stored")
        if not blind and not _in_scope(conn, who, case_no, shas):  # another unit's: as if unknown
            raise NotFound(f"no case {case_no!r}" if case_no else "one or more requested files are not stored")
        row = conn.execute(
            "INSERT INTO access_requests (requester, kind, case_no, file_sha256, purpose) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING *",
            (who.name, kind, case_no, shas, purpose),
        ).fetchone()
        assert row is not None
        ev = record_access(
            conn,
            who,
            "request",
            purpose=purpose,
            case_no=case_no,
            case_unit=case_unit,
            request_id=row["id"],
            data={"kind": kind, "files": shas},
        )
        conn.execute("UPDATE access_requests SET event_id = %s WHERE id = %s", (ev, row["id"]))
    return dict(row)


def decide(
    runtime: Runtime,
    request_id: int,
    approver: Principal,
    *,
    approve: bool,
    note: str | None = None,
    valid_hours: float = 72.0,
) -> dict[str, Any]:
    """A supervisor approves or rejects a pending request (not their own); logs ``access.approval``.

    Approving a case-scoped download stores the digests it covers — the clips linked to the case at
    this moment, plus any listed — in ``file_sha256``; ``require_approved`` checks only those.
    """
    if approver.role != "supervisor":
        raise Forbidden(f"only a supervisor approves access requests; {approver.name} is {approver.role}")
    check_texts((("note", note),))
    if not (0 < valid_hours <= 24 * 90):
        raise InvalidRequest("valid_hours must be in (0, 2160]")
    with runtime.catalog.tx() as conn:
        req = conn.execute("SELECT * FROM access_requests WHERE id = %s FOR UPDATE", (request_id,)).fetchone()
        if req is None or not _in_scope(conn, approver, req["case_no"], req["file_sha256"]):
            raise NotFound(f"no access request {request_id}")
        if req["status"] != "pending":
            raise Conflict(f"request {request_id} was already {req['status']}")
        if req["requester"] == approver.name:
            raise Forbidden("a supervisor cannot approve their own request")
        status = "approved" if approve else "rejected"
        expires = datetime.now(UTC) + timedelta(hours=valid_hours) if approve else None
        covered = sorted(set(req["file_sha256"]))
        if approve and req["kind"] == "download" and req["case_no"]:
            # Freeze the scope: the clips linked to the case *now*. A clip linked after the approval
            # is not covered (the supervisor never saw it); it needs a new request.
            linked = conn.execute(
                "SELECT DISTINCT f.sha256 FROM links l JOIN cases c ON c.id = l.case_id "
                "JOIN files f ON f.id = l.file_id WHERE c.case_no = %s AND l.unlinked_at IS NULL",
                (req["case_no"],),
            ).fetchall()
            covered = sorted(set(covered) | {r["sha256"] for r in linked})
        ev = record_access(
            conn,
            approver,
            "approval",
            purpose=note,
            case_no=req["case_no"],
            request_id=request_id,
            data={"decision": status, "requester": req["requester"], "kind": req["kind"], "files": covered},
        )
        row = conn.execute(
            "UPDATE access_requests SET status = %s, decided_by = %s, decided_at = now(), decision_note = %s, "
            "expires_at = %s, decision_event_id = %s, file_sha256 = %s WHERE id = %s RETURNING *",
            (status, approver.name, note, expires, ev, covered, request_id),
        ).fetchone()
        assert row is not None
    return dict(row)


def approve(runtime: Runtime, request_id: int, approver: Principal, note: str | None = None) -> dict[str, Any]:
    return decide(runtime, request_id, approver, approve=True, note=note)


def request(runtime: Runtime, who: Principal, **kw: Any) -> dict[str, Any]:
    return create_request(runtime, who, **kw)


OVERSEERS = frozenset({"supervisor", "admin"})  # see others' requests (within their units); others their own


def list_requests(
    runtime: Runtime, who: Principal, *, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Requests newest first: an overseer's own and those naming only objects in their units
    (``cases.scope.request_sql``); anybody else's own only."""
    where, params = scope.request_sql(who) if who.role in OVERSEERS else ("r.requester = %s", [who.name])
    conds, args = [where], list(params)
    if status:
        conds.append("r.status = %s")
        args.append(status)
    return runtime.catalog.all(
        f"SELECT r.* FROM access_requests r WHERE {' AND '.join(conds)} ORDER BY r.id DESC LIMIT %s", (*args, limit)
    )


def get_visible_request(runtime: Runtime, who: Principal, request_id: int) -> dict[str, Any]:
    """One request, if ``list_requests`` would show it to ``who`` (else ``NotFound``, as for an unknown id)."""
    where, params = scope.request_sql(who) if who.role in OVERSEERS else ("r.requester = %s", [who.name])
    row = runtime.catalog.one(f"SELECT r.* FROM access_requests r WHERE r.id = %s AND {where}", (request_id, *params))
    if row is None:
        raise NotFound(f"no access request {request_id}")
    return row


def get_request(runtime: Runtime, request_id: int) -> dict[str, Any]:
    row = runtime.catalog.one("SELECT * FROM access_requests WHERE id = %s", (request_id,))
    if row is None:
        raise NotFound(f"no access request {request_id}")
    return row


def require_approved(
    runtime: Runtime,
    request_id: int | None,
    who: Principal | str,
    *,
    kind: str,
    case_no: str | None = None,
    sha256: str | None = None,
) -> dict[str, Any]:
    """The approved, unexpired request of ``who`` covering this download/export, or ``ApprovalRequired``."""
    name = who if isinstance(who, str) else who.name
    if request_id is None:
        raise ApprovalRequired(f"{kind} needs a supervisor-approved access request (request_id)")
    row = runtime.catalog.one("SELECT * FROM access_requests WHERE id = %s", (request_id,))
    if row is None:
        raise ApprovalRequired(f"no access request {request_id}")
    if row["requester"] != name:
        raise ApprovalRequired(f"request {request_id} was made by {row['requester']}, not {name}")
    if row["status"] != "approved":
        raise ApprovalRequired(f"request {request_id} is {row['status']}, not approved")
    if row["expires_at"] is not None and row["expires_at"] < datetime.now(UTC):
        raise ApprovalRequired(f"approval of request {request_id} expired at {row['expires_at'].isoformat()}")
    if row["kind"] != kind:
        raise ApprovalRequired(f"request {request_id} is for {row['kind']}, not {kind}")
    if kind == "export" and row["case_no"] != case_no:
        raise ApprovalRequired(f"request {request_id} covers case {row['case_no']}, not {case_no}")
    if sha256 is not None and sha256.lower() not in row["file_sha256"]:
        # file_sha256 is what the supervisor approved: for a case-scoped download, the clips linked
        # to the case at approval time (frozen by ``decide``), never clips linked later.
        raise ApprovalRequired(f"request {request_id} does not cover file {sha256}")
    return row
