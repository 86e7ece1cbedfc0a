"""Supervised retrieval (调阅监督): purposes, requests and approvals, access records, oversight queries.

Every view, stream start, download, request, approval and export writes an audit-log event and an
``access_events`` row in one transaction that commits *before* the first byte is served (I5).
A playback session (same token, object, kind and purpose within ``SESSION_WINDOW``) reuses its
recorded event, so the many Range requests of one seek-heavy playback are one stream start — for
``view`` and ``stream`` only: every download is its own event (bulk-download detection counts them).

Events recorded by a ``liuhen`` CLI command carry ``via: "cli"`` and ``os_user`` in their data
(``integrity.events.origin``, set once by the shell), so the log shows who really ran a command that
names another user with ``--as``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from liuhen.cases import scope
from liuhen.cases.errors import ApprovalRequired, CaseNotFound, FileNotFound, PurposeRequired
from liuhen.cases.principal import Principal
from liuhen.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.runtime import Runtime

SESSION_WINDOW = timedelta(minutes=30)
SESSION_KINDS = frozenset({"view", "stream"})  # kinds whose repeated requests may reuse one event
BULK_DOWNLOADS_PER_HOUR = 20
BULK_FILES_PER_HOUR = 50
EVENT_TYPE = {
    "view": "access.view",
    "stream": "access.stream",
    "download": "access.download",
    "request": "access.request",
    "approval": "access.approval",
    "export": "export",
}


def record_event(
    conn: psycopg.Connection[Any],
    type_: str,
    actor: str,
    *,
    subject: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """``integrity.log.record`` in the caller's transaction (which adds the origin to ``data``)."""
    return record(conn, Event(type_, actor, subject=subject or {}, data=data or {}))


def check_purpose(purpose: str | None) -> str:
    p = (purpose or "").strip()
    if len(p) < 2:
        raise PurposeRequired(
            "state why you are retrieving this footage (query parameter 'purpose' or header X-Liuhen-Purpose)"
        )
    return p[:500]


def record_access(
    conn: psycopg.Connection[Any],
    who: Principal,
    kind: str,
    *,
    purpose: str | None,
    file: dict[str, Any] | None = None,
    derivative_id: int | None = None,
    case_no: str | None = None,
    case_unit: str | None = None,
    request_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Write the audit event and the access row in the caller's transaction; return the event id."""
    object_unit = (file or {}).get("unit_code") or case_unit
    outside = bool(who.unit_code and object_unit and who.unit_code != object_unit)
    subject: dict[str, Any] = {}
    if file:
        subject["sha256"] = file["sha256"]
    if case_no:
        subject["case"] = case_no
    body = {"purpose": purpose, "role": who.role, "unit": who.unit_code, **(data or {})}
    if derivative_id is not None:
        body["derivative_id"] = derivative_id
    if request_id is not None:
        body["request_id"] = request_id
    if outside:
        body["outside_unit"] = True
    ev = record_event(conn, EVENT_TYPE[kind], who.name, subject=subject, data=body)
    conn.execute(
        "INSERT INTO access_events (event_id, user_name, role, user_unit, token_id, kind, purpose, file_id, "
        "sha256, derivative_id, case_no, request_id, object_unit, outside_unit) "
        "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
        (
            ev,
            who.name,
            who.role,
            who.unit_code,
            who.token_id,
            kind,
            purpose,
            (file or {}).get("id"),
            (file or {}).get("sha256"),
            derivative_id,
            case_no,
            request_id,
            object_unit,
            outside,
        ),
    )
    return ev


def ensure_access_recorded(
    runtime: Runtime,
    who: Principal,
    kind: str,
    *,
    purpose: str,
    file: dict[str, Any],
    derivative_id: int | None = None,
    request_id: int | None = None,
) -> int:
    """Return the committed event id covering this access, recording one now if needed.

    A ``view``/``stream`` reuses the event of the same playback session (``SESSION_WINDOW``), so the
    Range requests of one playback are one event; every ``download`` records a new event.
    Returns only after COMMIT, so callers serve bytes strictly after the event is durable (I5, I8).
    """
    with runtime.catalog.tx() as conn:
        if kind not in SESSION_KINDS:
            return record_access(
                conn, who, kind, purpose=purpose, file=file, derivative_id=derivative_id, request_id=request_id
            )
        row = conn.execute(
            "SELECT event_id FROM access_events WHERE token_id IS NOT DISTINCT FROM %s AND user_name = %s "
            "AND file_id = %s AND kind = %s AND purpose = %s AND derivative_id IS NOT DISTINCT FROM %s "
            "AND request_id IS NOT DISTINCT FROM %s AND at > now() - %s ORDER BY at DESC LIMIT 1",
            (who.token_id, who.name, file["id"], kind, purpose, derivative_id, request_id, SESSION_WINDOW),
        ).fetchone()
        if row is not None:
            return int(row["event_id"])
        return record_access(
            conn, who, kind, purpose=purpose, file=file, derivative_id=derivative_id, request_id=request_id
        )


CORRUPT_FLAG = "fixity_failed"


def record_corrupt_original(runtime: Runtime, who: Principal, file: dict[str, Any], computed: str) -> int:
    """A download found the stored original no longer hashes to its digest: log a failed
    ``fixity.check`` (mode ``download``) and flag the file ``fixity_failed``; return the event id."""
    problem = (f"store vs catalog: object {file['storage_key']} hashes to sha256 {computed}, "
               f"catalog says {file['sha256']} (found while serving a download)")
    with runtime.catalog.tx() as conn:
        ev = record_event(
            conn,
            "fixity.check",
            who.name,
            subject={"sha256": file["sha256"]},
            data={"outcome": "fail", "mode": "download", "file_id": file["id"],
                  "computed": {"sha256": computed}, "problems": [problem]},
        )
        conn.execute(
            "UPDATE files SET flags = array_append(flags, %s) WHERE id = %s AND NOT (%s = ANY(flags))",
            (CORRUPT_FLAG, file["id"], CORRUPT_FLAG),
        )
    return ev


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


def access_log(
    runtime: Runtime,
    *,
    case_no: str | None = None,
    sha256: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Who accessed what, when and why — by case (incl. its linked clips), clip or user."""
    where: list[str] = []
    params: list[object] = []
    if case_no:
        where.append(
            "(a.case_no = %s OR a.file_id IN (SELECT l.file_id FROM links l JOIN cases c ON c.id = l.case_id "
            "WHERE c.case_no = %s))"
        )
        params += [case_no, case_no]
    if sha256:
        where.append("(a.sha256 = %s OR a.request_id IN (SELECT id FROM access_requests WHERE %s = ANY(file_sha256)))")
        params += [sha256.lower(), sha256.lower()]
    if user:
        where.append("a.user_name = %s")
        params.append(user)
    if since:
        where.append("a.at >= %s")
        params.append(since)
    if until:
        where.append("a.at < %s")
        params.append(until)
    sql = (
        "SELECT a.id, a.event_id, e.idx AS log_index, a.at, a.user_name, a.role, a.user_unit, a.kind, a.purpose, "
        "a.sha256, a.derivative_id, a.case_no, a.request_id, a.object_unit, a.outside_unit "
        "FROM access_events a LEFT JOIN log_events e ON e.id = a.event_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY a.at DESC, a.id DESC LIMIT %s"
    )
    return runtime.catalog.all(sql, (*params, limit))


def unusual(
    runtime: Runtime,
    *,
    since: datetime | None = None,
    bulk_downloads: int = BULK_DOWNLOADS_PER_HOUR,
    bulk_files: int = BULK_FILES_PER_HOUR,
) -> list[dict[str, Any]]:
    """Flagged access: bulk downloads / bulk retrieval in any hour, and access outside the user's unit."""
    since = since or datetime.now(UTC) - timedelta(days=7)
    flags: list[dict[str, Any]] = []
    for r in runtime.catalog.all(
        "SELECT user_name, date_trunc('hour', at) AS hour, count(*) FILTER (WHERE kind = 'download') AS downloads, "
        "count(DISTINCT file_id) AS files FROM access_events WHERE at >= %s "
        "AND kind IN ('view', 'stream', 'download') GROUP BY 1, 2 "
        "HAVING count(*) FILTER (WHERE kind = 'download') > %s OR count(DISTINCT file_id) > %s ORDER BY 2, 1",
        (since, bulk_downloads, bulk_files),
    ):
        kind = "bulk_download" if r["downloads"] > bulk_downloads else "bulk_retrieval"
        flags.append(
            {
                "flag": kind,
                "user_name": r["user_name"],
                "at": r["hour"],
                "count": int(r["downloads"] or 0),
                "files": int(r["files"] or 0),
                "detail": f"{r['downloads']} downloads, {r['files']} distinct files within one hour",
            }
        )
    for r in runtime.catalog.all(
        "SELECT user_name, user_unit, object_unit, kind, sha256, case_no, at, purpose FROM access_events "
        "WHERE at >= %s AND outside_unit ORDER BY at DESC LIMIT 1000",
        (since,),
    ):
        flags.append(
            {
                "flag": "outside_unit",
                "user_name": r["user_name"],
                "at": r["at"],
                "count": 1,
                "files": 1,
                "detail": f"{r['kind']} of {r['sha256'] or r['case_no']} (unit {r['object_unit']}) by a user of "
                f"unit {r['user_unit']}; purpose: {r['purpose']}",
            }
        )
    return flags
