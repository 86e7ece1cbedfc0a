"""Row lookups shared by the case services and the completeness report."""

from __future__ import annotations

from typing import Any

import psycopg

from liuhen.cases.errors import CaseNotFound


def case_row(conn: psycopg.Connection[Any], case_no: str, *, lock: bool = False) -> dict[str, Any]:
    sql = "SELECT * FROM cases WHERE case_no = %s" + (" FOR UPDATE" if lock else "")
    row = conn.execute(sql, (case_no,)).fetchone()
    if row is None:
        raise CaseNotFound(f"no case {case_no!r}")
    return dict(row)
