"""Oversight queries over the access records: who accessed what, when and why; unusual access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from liuhen.cases.accessevents import BULK_DOWNLOADS_PER_HOUR, BULK_FILES_PER_HOUR
from liuhen.runtime import Runtime


def access_log(
    runtime: Runtime,
    *,
    case_no: str | None = None,
    sha256: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    visible: tuple[str, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Who accessed what, when and why — by case (incl. its linked clips), clip or user.

    ``visible``: an SQL condition on alias ``a`` (``cases.scope.access_row_sql``) limiting the rows."""
    where: list[str] = [visible[0]] if visible else []
    params: list[object] = list(visible[1]) if visible else []
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
    visible: tuple[str, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Flagged access: bulk downloads / bulk retrieval in any hour, and access outside the user's unit.

    ``visible``: an SQL condition on alias ``a`` (``cases.scope.access_row_sql``) limiting the rows counted."""
    since = since or datetime.now(UTC) - timedelta(days=7)
    cond, cond_params = visible if visible else ("TRUE", [])
    flags: list[dict[str, Any]] = []
    for r in runtime.catalog.all(
        "SELECT user_name, date_trunc('hour', at) AS hour, count(*) FILTER (WHERE kind = 'download') AS downloads, "
        f"count(DISTINCT file_id) AS files FROM access_events a WHERE at >= %s AND {cond} "
        "AND kind IN ('view', 'stream', 'download') GROUP BY 1, 2 "
        "HAVING count(*) FILTER (WHERE kind = 'download') > %s OR count(DISTINCT file_id) > %s ORDER BY 2, 1",
        (since, *cond_params, bulk_downloads, bulk_files),
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
        "SELECT user_name, user_unit, object_unit, kind, sha256, case_no, at, purpose FROM access_events a "
        f"WHERE at >= %s AND outside_unit AND {cond} ORDER BY at DESC LIMIT 1000",
        (since, *cond_params),
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
