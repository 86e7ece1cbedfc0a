"""Access records (I5): every view, stream start, download, request, approval and export writes an audit-log
event and an ``access_events`` row in one transaction that commits *before* the first byte is served.
A playback session (same token, object, kind and purpose within ``SESSION_WINDOW``) reuses its
recorded event, so the many Range requests of one seek-heavy playback are one stream start — for
``view`` and ``stream`` only: every download is its own event (bulk-download detection counts them).

Events recorded by a ``liuhen`` CLI command carry ``via: "cli"`` and ``os_user`` in their data
(``integrity.events.origin``, set once by the shell), so the log shows who really ran a command that
names another user with ``--as``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from liuhen.cases.errors import PurposeRequired
from liuhen.cases.principal import Principal
from liuhen.core.text import check_text
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
    check_text("purpose", purpose)
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
