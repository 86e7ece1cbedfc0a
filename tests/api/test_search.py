"""Search correctness: every filter kind and keyset pagination across pages, against a brute-force answer.

40 000 rows span three id buckets of the time-window walk (api.search.BUCKET), with late uploads
(recorded_at out of id order), NULL recording times, flags, holds and links (some unlinked).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from liuhen.api.search import BUCKET, build_query, search_files, uses_time_buckets
from tests.api.conftest import bearer

N = 40_000
BASE = datetime(2024, 1, 1, tzinfo=UTC)

SEED = """
INSERT INTO files (id, sha256, size, media_kind, storage_key, device_serial, officer_no, unit_code, recorded_at,
                   flags, legal_hold)
SELECT i, encode(sha256(('s' || i)::bytea), 'hex'), 1, (ARRAY['video','video','video','photo','audio'])[1 + i %% 5],
       'k' || i, 'D' || (i %% 97), 'O' || (i %% 53), 'U' || (i %% 7),
       CASE WHEN i %% 101 = 0 THEN NULL
            WHEN i %% 37 = 0 THEN timestamptz '2024-01-01' + make_interval(secs => (i - 20000) * 30)
            ELSE timestamptz '2024-01-01' + make_interval(secs => i * 30) END,
       CASE WHEN i %% 211 = 0 THEN ARRAY['clock_drift'] WHEN i %% 5 = 1 THEN ARRAY['no_gps'] ELSE '{}' END,
       i %% 13 = 0
FROM generate_series(1, %s) AS i
"""


@pytest.fixture
def data(runtime) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with runtime.catalog.tx() as conn:
        conn.execute(SEED, (N,))
        conn.execute(
            "INSERT INTO cases (case_no, agency, subject, case_type, created_by) "
            "SELECT 'C-' || c, 'a', 's', 'penalty', 't' FROM generate_series(1, 5) c"
        )
        conn.execute(
            "INSERT INTO links (case_id, stage, file_id, linked_by, unlinked_at) "
            "SELECT 1 + i %% 5, (ARRAY['investigation','review','closure'])[1 + i %% 3], i, 't', "
            "CASE WHEN i %% 50 = 9 THEN now() END FROM generate_series(9, %s, 10) i",
            (N,),
        )
    with runtime.catalog.tx() as conn:
        conn.execute("ANALYZE files")
        conn.execute("ANALYZE links")
        rows = conn.execute("SELECT id, recorded_at, officer_no, unit_code, media_kind, flags, legal_hold FROM files")
        files = rows.fetchall()
        links = conn.execute(
            "SELECT l.file_id, l.stage, c.case_no FROM links l JOIN cases c ON c.id = l.case_id "
            "WHERE l.unlinked_at IS NULL"
        ).fetchall()
    by_file: dict[int, list[tuple[str, str]]] = {}
    for link in links:
        by_file.setdefault(link["file_id"], []).append((link["stage"], link["case_no"]))
    for f in files:
        f["links"] = by_file.get(f["id"], [])
    return files


def expected(files: list[dict[str, Any]], f: dict[str, Any]) -> list[int]:
    def ok(r: dict[str, Any]) -> bool:
        if f.get("officer") and r["officer_no"] != f["officer"]:
            return False
        if f.get("unit") and r["unit_code"] != f["unit"]:
            return False
        if f.get("media_kind") and r["media_kind"] != f["media_kind"]:
            return False
        if f.get("flag") and f["flag"] not in r["flags"]:
            return False
        if f.get("held") is not None and r["legal_hold"] != f["held"]:
            return False
        if f.get("recorded_from") and (r["recorded_at"] is None or r["recorded_at"] < f["recorded_from"]):
            return False
        if f.get("recorded_to") and (r["recorded_at"] is None or r["recorded_at"] >= f["recorded_to"]):
            return False
        if f.get("stage") or f.get("case_no"):
            return any(
                (not f.get("stage") or s == f["stage"]) and (not f.get("case_no") or c == f["case_no"])
                for s, c in r["links"]
            )
        return True

    return sorted((r["id"] for r in files if ok(r)), reverse=True)


def paginate(rt: Any, f: dict[str, Any], limit: int, cursor: int | None = None) -> list[int]:
    seen: list[int] = []
    while True:
        rows = search_files(rt, limit=limit, cursor=cursor, **f)
        ids = [r["id"] for r in rows]
        assert ids == sorted(ids, reverse=True)
        assert cursor is None or not ids or ids[0] < cursor, "a page repeated ids at or above its cursor"
        seen += ids[:limit]
        if len(rows) <= limit:
            return seen
        cursor = ids[limit - 1]


T = BASE + timedelta(days=3)
CASES: list[dict[str, Any]] = [
    {},
    {"officer": "O7"},
    {"unit": "U3"},
    {"media_kind": "photo", "held": True},
    {"held": False, "unit": "U1"},
    {"flag": "clock_drift"},
    {"flag": "no_gps", "unit": "U2"},
    {"recorded_from": T, "recorded_to": T + timedelta(hours=30)},  # spans a bucket edge, late uploads
    {"recorded_to": BASE + timedelta(hours=2)},  # only late uploads (ids ~20000-20100) and the oldest
    {"recorded_from": BASE + timedelta(days=10)},
    {"recorded_from": T, "recorded_to": T + timedelta(days=2), "media_kind": "audio"},
    {"recorded_from": T, "recorded_to": T + timedelta(days=9), "flag": "clock_drift"},
    {"recorded_from": T, "recorded_to": T + timedelta(days=5), "stage": "review", "held": True},
    {"recorded_from": T, "recorded_to": T + timedelta(days=5), "unit": "U4"},
    {"stage": "closure"},
    {"case_no": "C-2"},
    {"case_no": "C-3", "stage": "investigation"},
    {"stage": "review", "officer": "O9"},
]


@pytest.mark.slow  # ~20 s with its 100k-row fixture
def test_search_pages_match_brute_force(runtime, data, client, tokens):  # type: ignore[no-untyped-def]
    """Every filter kind (one seeded database), whole pagination and a mid-bucket cursor; then over HTTP."""
    assert N > 2 * BUCKET
    for f in CASES:
        want = expected(data, f)
        limit = 37 if len(want) < 2000 else 499
        assert paginate(runtime, f, limit) == want, f
        # a cursor in the middle (inside a bucket, not on an edge) continues exactly where it should
        if len(want) > 3:
            mid = want[len(want) // 2] + 1
            assert paginate(runtime, f, limit, cursor=mid) == [i for i in want if i < mid], f
    check_http_pages(client, tokens, data)


def test_time_windows_use_the_bucket_walk_and_others_do_not() -> None:
    t = {"recorded_from": T, "recorded_to": T + timedelta(days=1)}
    assert uses_time_buckets(t) and uses_time_buckets({**t, "flag": "x"}) and uses_time_buckets({**t, "held": True})
    assert not uses_time_buckets({**t, "officer": "O1"}) and not uses_time_buckets({**t, "case_no": "C"})
    sql, _ = build_query(limit=10, **t)
    assert "generate_series" in sql and "files_time_bucket" not in sql
    sql, params = build_query(limit=10, cursor=5, flag="x")
    assert "generate_series" not in sql and params == ["x", 5, 11]


def check_http_pages(client, tokens, data):  # type: ignore[no-untyped-def]
    q = {"recorded_from": T.isoformat(), "recorded_to": (T + timedelta(days=2)).isoformat(), "limit": 100}
    want = expected(data, {"recorded_from": T, "recorded_to": T + timedelta(days=2)})
    seen: list[int] = []
    cursor = None
    from liuhen.api.auth import issue_token

    # an agency-wide token (issued without a unit): unit scoping (cases/scope.py) hides nothing from it
    hq, _ = issue_token(client.app.state.runtime, user="hq", role="reviewer", unit_code=None, actor="t")
    while True:
        page = client.get("/files", headers=bearer(hq), params={**q, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == want and len(want) > 100
