"""Annual figures computed from the catalog as of an instant ``as_of`` (the report's checkpoint time).

Rows of originals never change their digest, size, unit, recording or ingest time (I1); links record
when they were made and unmade; so "as of" a past instant is a stable question.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

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
