"""Annual figures computed from the catalog as of an instant ``as_of`` (the report's checkpoint time).

Rows of originals never change their digest, size, unit, recording or ingest time (I1); links record
when they were made and unmade; so "as of" a past instant is a stable question.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from liuhen.cases.completeness import _span, gaps
from liuhen.publication.annual_log import year_bounds
from liuhen.publication.figures import Figure, figure

NO_UNIT = "(none)"
TB = 10**12


def recording_figures(conn: psycopg.Connection[Any], year: int, as_of: datetime, late_hours: float) -> list[Figure]:
    """Originals ingested in the year by unit (files, hours, TB), and late uploads (> ``late_hours``)."""
    a, b = year_bounds(year)
    rows = conn.execute(
        "SELECT coalesce(unit_code, %s) AS unit, count(*) AS files, coalesce(sum(duration_s), 0) AS seconds, "
        "coalesce(sum(size), 0) AS bytes FROM files WHERE ingested_at >= %s AND ingested_at < %s "
        "AND ingested_at <= %s GROUP BY 1 ORDER BY 1",
        (NO_UNIT, a, b, as_of),
    ).fetchall()
    late = conn.execute(
        "SELECT count(*) AS n FROM files WHERE ingested_at >= %s AND ingested_at < %s AND ingested_at <= %s "
        "AND recorded_at IS NOT NULL AND ingested_at - recorded_at > make_interval(secs => %s)",
        (a, b, as_of, late_hours * 3600),
    ).fetchone()
    assert late is not None
    return [
        figure("recording_files_by_unit", "各单位音像记录文件数", "files", {r["unit"]: int(r["files"]) for r in rows}),
        figure("recording_hours_by_unit", "各单位音像记录时长", "hours",
               {r["unit"]: float(r["seconds"]) / 3600 for r in rows}),
        figure("recording_tb_by_unit", "各单位音像记录数据量", "TB", {r["unit"]: int(r["bytes"]) / TB for r in rows}),
        figure("late_uploads", f"超过{late_hours:g}小时上传的记录", "files", {"files": int(late["n"])}),
    ]


def coverage_figures(conn: psycopg.Connection[Any], year: int, as_of: datetime) -> list[Figure]:
    """Full-AV activities (全程音像记录) that started in the year: how many had footage covering all of them."""
    n, covered = coverage(conn, *year_bounds(year), as_of)
    return [figure("full_av_coverage", "全程音像记录事项的覆盖情况", "activities", {
        "activities": n, "fully_covered": covered, "percent": 100.0 * covered / n if n else 0.0})]


def coverage(conn: psycopg.Connection[Any], a: datetime, b: datetime, as_of: datetime) -> tuple[int, int]:
    """(full-AV activities starting in ``[a, b)``, those fully covered by footage as of ``as_of``).

    The same rule as the completeness report (``liuhen.cases.completeness``): an activity's footage is the
    clips linked to it, plus stage-level clips of its case and stage that overlap it.
    """
    acts = conn.execute(
        "SELECT id, case_id, stage, starts_at, ends_at FROM activities WHERE recording = 'full_av' "
        "AND starts_at >= %s AND starts_at < %s ORDER BY id", (a, b)).fetchall()
    segs = conn.execute(
        "SELECT l.case_id, l.stage, l.activity_id, l.t_start_s, l.t_end_s, f.recorded_at, f.duration_s, "
        "f.media_info FROM links l JOIN files f ON f.id = l.file_id WHERE l.case_id IN (SELECT case_id FROM "
        "activities WHERE recording = 'full_av' AND starts_at >= %s AND starts_at < %s) AND l.linked_at <= %s "
        "AND (l.unlinked_at IS NULL OR l.unlinked_at > %s)",
        (a, b, as_of, as_of)).fetchall()
    covered = 0
    for act in acts:
        span = (act["starts_at"], act["ends_at"])
        mine = [s for s in segs if _belongs(s, act)]
        spans = [sp for sp in (_span(dict(s)) for s in mine) if sp is not None]
        if mine and not gaps(span, spans):  # no missing_av and no coverage_gap finding
            covered += 1
    return len(acts), covered


def _belongs(seg: dict[str, Any], act: dict[str, Any]) -> bool:
    if seg["case_id"] != act["case_id"]:
        return False
    if seg["activity_id"] == act["id"]:
        return True
    if seg["activity_id"] is not None or seg["stage"] != act["stage"]:
        return False
    sp = _span(dict(seg))
    return sp is not None and sp[0] < act["ends_at"] and sp[1] > act["starts_at"]
