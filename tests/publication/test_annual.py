"""The annual report on seeded data: every figure equals an independent SQL count over the catalog tables
(the report itself counts audit events for most figures), `verify` passes, and names an edited figure."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from liuhen.publication import annual
from liuhen.publication.errors import ReportFiguresInvalid
from liuhen.publication.figures import ROUNDING, loads

from .seed import seed

Y = "(SELECT make_timestamptz(%(y)s, 1, 1, 0, 0, 0, 'Asia/Shanghai'))"
Y1 = "(SELECT make_timestamptz(%(y)s + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai'))"
IN_Y = "BETWEEN " + Y + " AND " + Y1 + " - interval '1 microsecond'"
STAGE_AT_END = f"""SELECT c.id, c.case_type, (SELECT s.stage FROM case_stages s WHERE s.case_id = c.id
    AND s.entered_at < {Y1} ORDER BY s.entered_at DESC, s.id DESC LIMIT 1) AS stage FROM cases c
    WHERE c.created_at {IN_Y}"""


def q(conn: Any, sql: str, year: int, as_of: Any = None) -> list[dict[str, Any]]:
    return conn.execute(sql, {"y": year, "as_of": as_of}).fetchall()


def expected(conn: Any, year: int, as_of: Any) -> dict[str, float]:
    """Every figure by an independent query on the catalog tables (not the log the report reads)."""
    e: dict[str, float] = {}
    types, stages = ("permit", "penalty", "coercive", "levy", "inspection"), (
        "filing", "investigation", "review", "decision", "service", "execution", "closure")
    for t in types:
        e[f"cases_by_type/{t}"] = 0
        e[f"decisions_by_type/{t}"] = 0
    for s in stages:
        e[f"cases_by_stage/{s}"] = 0
    for o in ("open", "decided", "closed"):
        e[f"cases_by_outcome/{o}"] = 0
    for r in q(conn, f"SELECT case_type, count(*) n FROM cases WHERE created_at {IN_Y} GROUP BY 1", year):
        e[f"cases_by_type/{r['case_type']}"] = r["n"]
    for r in q(conn, f"SELECT stage, count(*) n FROM ({STAGE_AT_END}) x GROUP BY 1", year):
        e[f"cases_by_stage/{r['stage']}"] = r["n"]
    for r in q(conn, f"""SELECT CASE WHEN stage IN ('filing','investigation','review') THEN 'open'
            WHEN stage = 'closure' THEN 'closed' ELSE 'decided' END o, count(*) n FROM ({STAGE_AT_END}) x
            GROUP BY 1""", year):
        e[f"cases_by_outcome/{r['o']}"] = r["n"]
    for r in q(conn, f"""SELECT c.case_type, count(*) n FROM case_stages s JOIN cases c ON c.id = s.case_id
            WHERE s.stage = 'decision' AND s.entered_at {IN_Y} GROUP BY 1""", year):
        e[f"decisions_by_type/{r['case_type']}"] = r["n"]
    [p] = q(conn, """SELECT count(*) decisions,
            count(*) FILTER (WHERE (first_published_at AT TIME ZONE 'Asia/Shanghai')::date <= due_on) on_time,
            count(*) FILTER (WHERE (first_published_at AT TIME ZONE 'Asia/Shanghai')::date > due_on) late,
            count(*) FILTER (WHERE first_published_at IS NULL) not_published,
            (SELECT count(*) FROM publication_versions v JOIN publications p2 ON p2.id = v.publication_id
             WHERE v.state = 'updated' AND extract(year FROM p2.decided_on) = %(y)s) updated,
            (SELECT count(*) FROM publication_versions v JOIN publications p2 ON p2.id = v.publication_id
             WHERE v.state = 'revoked' AND extract(year FROM p2.decided_on) = %(y)s) revoked
            FROM publications WHERE extract(year FROM decided_on) = %(y)s""", year)
    e.update({f"publications/{k}": v for k, v in p.items()})
    for r in q(conn, f"""SELECT coalesce(unit_code, '(none)') u, count(*) n, sum(duration_s) s, sum(size) b
            FROM files WHERE ingested_at {IN_Y} AND ingested_at <= %(as_of)s GROUP BY 1""", year, as_of):
        e[f"recording_files_by_unit/{r['u']}"] = r["n"]
        e[f"recording_hours_by_unit/{r['u']}"] = round(float(r["s"]) / 3600, ROUNDING)
        e[f"recording_tb_by_unit/{r['u']}"] = round(int(r["b"]) / 1e12, ROUNDING)
    [r] = q(conn, f"""SELECT count(*) n FROM files WHERE ingested_at {IN_Y} AND ingested_at <= %(as_of)s
            AND ingested_at > recorded_at + interval '24 hours'""", year, as_of)
    e["late_uploads/files"] = r["n"]
    [r] = q(conn, f"""SELECT count(*) n, count(*) FILTER (WHERE covered) c FROM (
            SELECT a.id, coalesce(tstzrange(a.starts_at, a.ends_at) <@ range_agg(tstzrange(f.recorded_at,
              f.recorded_at + make_interval(secs => f.duration_s), '[]')) FILTER (WHERE f.id IS NOT NULL),
              false) covered
            FROM activities a LEFT JOIN links l ON l.activity_id = a.id AND l.linked_at <= %(as_of)s
              AND (l.unlinked_at IS NULL OR l.unlinked_at > %(as_of)s)
            LEFT JOIN files f ON f.id = l.file_id
            WHERE a.recording = 'full_av' AND a.starts_at {IN_Y} GROUP BY a.id) x""", year, as_of)
    e.update({"full_av_coverage/activities": r["n"], "full_av_coverage/fully_covered": r["c"],
              "full_av_coverage/percent": round(100.0 * r["c"] / r["n"], ROUNDING) if r["n"] else 0.0})
    [r] = q(conn, f"SELECT count(*) n, count(*) FILTER (WHERE approved) a, count(*) FILTER (WHERE NOT approved) j "
                  f"FROM legal_reviews WHERE reviewed_at {IN_Y}", year)
    e.update({"legal_reviews/reviews": r["n"], "legal_reviews/approved": r["a"], "legal_reviews/rejected": r["j"]})
    [r] = q(conn, f"""SELECT (SELECT count(*) FROM access_requests WHERE requested_at {IN_Y}) req,
            (SELECT count(*) FROM access_requests WHERE status = 'approved' AND decided_at {IN_Y}) ok,
            (SELECT count(*) FROM access_requests WHERE status = 'rejected' AND decided_at {IN_Y}) no,
            (SELECT count(*) FROM exports WHERE created_at {IN_Y}) ex""", year)
    e.update({"access/requests": r["req"], "access/approved": r["ok"], "access/rejected": r["no"],
              "access/exports": r["ex"]})
    [r] = q(conn, f"""SELECT count(*) n, coalesce(sum((b->'data'->>'size')::bigint), 0) s FROM (SELECT
            convert_from(body, 'UTF8')::jsonb b FROM log_events WHERE type = 'disposal') x
            WHERE (b->>'time')::timestamptz {IN_Y}""", year)
    e.update({"disposals/originals": r["n"], "disposals/bytes": r["s"]})
    return e


@pytest.fixture
def seeded(runtime: Any) -> Any:
    with runtime.catalog.tx() as conn:
        seed(conn, cases=300)
    return runtime


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_every_figure_equals_an_independent_sql_count(seeded: Any, tmp_path: Path, year: int) -> None:
    doc = annual.make_report(seeded, year, tmp_path / "r", actor="test")
    with seeded.catalog.tx() as conn:
        want = expected(conn, year, doc.checkpoint["as_of"])
    got = doc.flat()
    assert got == want
    assert got["cases_by_type/penalty"] > 5 and got["publications/late"] > 0 and got["access/exports"] > 0
    assert 0 < got["full_av_coverage/fully_covered"] < got["full_av_coverage/activities"]
    assert annual.verify_report(seeded, tmp_path / "r")["figures"] == len(want)


def test_verify_names_an_edited_figure_and_a_forged_checkpoint(seeded: Any, tmp_path: Path) -> None:
    out = tmp_path / "r"
    doc = annual.make_report(seeded, 2025, out, actor="test")
    html = (out / "report.html").read_text()
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(pngs) == len([f for f in doc.figures if f.values])
    assert {Image.open(io.BytesIO(base64.b64decode(p))).size for p in pngs} == {(800, 400)}
    n = doc.flat()["cases_by_type/levy"]
    csv = (out / "figures.csv").read_text("utf-8-sig")
    (out / "figures.csv").write_text(csv.replace(f",levy,{n},", f",levy,{n + 1},"), "utf-8-sig")
    named = rf"figures\.csv: figure cases_by_type/levy = {n + 1}, recomputed {n}"
    with pytest.raises(ReportFiguresInvalid, match=named):
        annual.verify_report(seeded, out)
    (out / "figures.csv").write_text(csv, "utf-8-sig")
    annual.verify_report(seeded, out)
    j = (out / "figures.json").read_text()
    (out / "figures.json").write_text(j.replace('"size": ', '"size": 1', 1))
    with pytest.raises(ReportFiguresInvalid, match="its signed note says"):
        annual.verify_report(seeded, out)
    assert loads(j).checkpoint["size"] == doc.checkpoint["size"]
