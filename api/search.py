"""File search: newest first (``id`` descending), keyset pagination on ``id``, fast at 10^6+ rows.

Every filter has an index that yields its matches already in ``id`` order, or a bounded plan
(indexes in ``catalog/migrations/0500_api.sql`` and ``0501_search.sql``):

- officer / device / unit / media_kind: b-tree ``(column, id)`` — an ordered index walk from the cursor.
- held: partial ``(id) WHERE legal_hold``; not held: the primary key walk (most files are not held).
- digest or prefix: unique / ``text_pattern_ops`` index (a handful of rows).
- case / stage: ``EXISTS`` over ``links``: ``(case_id, stage)`` for a case, ``(stage, file_id)`` and
  ``(file_id, stage)`` for a stage, so the planner can merge-join ordered ids or probe per file.
- flag: GIN ``flags``; the planner picks the GIN bitmap + top-N sort (rare flag) or the primary-key
  walk (common flag) from the array element statistics. No ``id + 0`` fence: that forced a sort of
  every match and took ~400 ms at 10^6 rows for a flag on 20 % of files.
- recording time: the hard case. ``recorded_at`` only roughly follows ``id`` (late uploads, clock
  drift), so neither the time index (sort every match: 260 k rows for a quarter) nor the primary-key
  walk (skips every newer row first: ~700 k for an old window) is bounded. The query instead walks
  ``id`` buckets of ``BUCKET`` ids from the cursor down, using the expression index
  ``((id / BUCKET), recorded_at)``: an empty bucket costs one index probe, a bucket with matches
  yields its newest ``limit + 1``; the walk stops as soon as enough rows are found. Used when a
  time bound is given and no more selective filter (officer, device, unit, digest, case) drives the plan;
  officer / device / unit with a time window use their ``(column, recorded_at)`` indexes instead.

Search results are metadata, not footage: reading them is authorised by the role matrix (one token
lookup per request) but, unlike views/streams/downloads (I5), not written to the audit log.
"""

from __future__ import annotations

from typing import Any

BUCKET = 16384  # must match the expression in catalog/migrations/0501_search.sql (files_time_bucket)
COLS = (
    "id, sha256, size, media_kind, ext, original_name, device_serial, officer_no, unit_code, recorded_at, "
    "duration_s, ingested_at, legal_hold, status, media_status, flags"
)
_FCOLS = ", ".join("f." + c.strip() for c in COLS.split(","))
_SELECTIVE = ("officer", "device", "unit", "sha256", "case_no")
PLANNER_SETTINGS = ("jit = off", "random_page_cost = 1.1")  # SET LOCAL for each search (see below)
_FENCED = ("media_kind", "held")
_UTC = "(f.recorded_at AT TIME ZONE 'UTC')"


def _where(f: dict[str, Any], cursor: int | None, *, buckets: bool = False) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.get("case_no") or f.get("stage"):
        sub = "SELECT 1 FROM links l"
        cond = ["l.file_id = f.id", "l.unlinked_at IS NULL"]
        if f.get("case_no"):
            sub += " JOIN cases c ON c.id = l.case_id"
            cond.append("c.case_no = %s")
            params.append(f["case_no"])
        if f.get("stage"):
            cond.append("l.stage = %s")
            params.append(str(getattr(f["stage"], "value", f["stage"])))
        where.append(f"EXISTS ({sub} WHERE {' AND '.join(cond)})")
    for key, col in (
        ("officer", "officer_no"),
        ("device", "device_serial"),
        ("unit", "unit_code"),
        ("media_kind", "media_kind"),
    ):
        if f.get(key):
            where.append(f"f.{col} = %s")
            params.append(f[key])
    if buckets:
        # The bucket index is on (id / BUCKET, recorded_at AT TIME ZONE 'UTC') (immutable, same order as
        # recorded_at), so only it can serve these conditions: files_recorded_at, which the planner likes for
        # small tables, would rescan the whole window once per bucket.
        where.append(f"(f.id / {BUCKET}) = b.n")
        if f.get("recorded_from"):
            where.append(f"{_UTC} >= (%s::timestamptz AT TIME ZONE 'UTC')")
            params.append(f["recorded_from"])
        if f.get("recorded_to"):
            where.append(f"{_UTC} < (%s::timestamptz AT TIME ZONE 'UTC')")
            params.append(f["recorded_to"])
    else:
        if f.get("recorded_from"):
            where.append("f.recorded_at >= %s")
            params.append(f["recorded_from"])
        if f.get("recorded_to"):
            where.append("f.recorded_at < %s")
            params.append(f["recorded_to"])
    if f.get("visible"):  # unit scope (cases.scope.file_sql): a condition on alias f
        where.append(f["visible"][0])
        params += f["visible"][1]
    if f.get("flag"):
        where.append("f.flags @> ARRAY[%s]::text[]")
        params.append(f["flag"])
    if f.get("held") is not None:
        where.append("f.legal_hold" if f["held"] else "NOT f.legal_hold")
    if f.get("sha256"):
        s = str(f["sha256"]).lower()
        if len(s) == 64:
            where.append("f.sha256 = %s")
            params.append(s)
        else:
            where.append("f.sha256 LIKE %s")
            params.append(s + "%")
    if cursor is not None and buckets:
        # Only the first bucket needs the bound; as an OR it is no primary-key range (which the planner
        # would otherwise scan, per bucket, instead of the bucket index).
        where.append("(b.n < %s OR f.id < %s)")
        params += [(cursor - 1) // BUCKET, cursor]
    elif cursor is not None:
        where.append("f.id < %s")
        params.append(cursor)
    return where, params


def uses_time_buckets(f: dict[str, Any]) -> bool:
    """Whether the query walks id buckets through the time index (see the module docstring)."""
    has_time = bool(f.get("recorded_from") or f.get("recorded_to"))
    return has_time and not any(f.get(k) for k in _SELECTIVE)


def build_query(*, limit: int = 50, cursor: int | None = None, **f: Any) -> tuple[str, list[Any]]:
    """(sql, params) of the search; the query returns up to ``limit + 1`` rows, newest first."""
    if not uses_time_buckets(f):
        where, params = _where(f, cursor)
        cond = " WHERE " + " AND ".join(where) if where else ""
        return f"SELECT {_FCOLS} FROM files f{cond} ORDER BY f.id DESC LIMIT %s", [*params, limit + 1]
    # Buckets from the cursor's (or the newest id's) down to 0. The lateral reference makes this a nested
    # loop over the ordered generate_series, so buckets are visited newest first and the outer LIMIT stops
    # the walk; within a bucket (<= BUCKET rows), "id + 0" keeps the planner on files_time_bucket (an
    # ordered primary-key walk with the bucket as a filter would scan the whole table for each bucket).
    # Broad equality filters (media kind, hold) are applied after the bucket scan (OFFSET 0 is the fence):
    # as a BitmapAnd inside the loop their whole bitmap (10^5 rows for photos at 10^6) would be rebuilt for
    # every bucket. Flags and stages stay inside, where a rare one's index is the cheap side.
    where, params = _where({k: v for k, v in f.items() if k not in _FENCED}, cursor, buckets=True)
    post, post_params = _where({k: f.get(k) for k in _FENCED}, None)
    top = "%s" if cursor is not None else f"(SELECT max(id) FROM files) / {BUCKET}"
    top_params = [(cursor - 1) // BUCKET] if cursor is not None else []
    # The lateral yields ids only; for a plain time window that is an index-only scan of the bucket (the index
    # INCLUDEs id), so a wide window costs a top-N over <= BUCKET index entries, not as many heap rows.
    inner = f"SELECT f.id FROM files f WHERE {' AND '.join(where)}"
    if post:
        inner = f"SELECT f.id FROM (SELECT {_FCOLS} FROM files f WHERE {' AND '.join(where)} OFFSET 0) f"
        inner += f" WHERE {' AND '.join(post)}"
    sql = (
        f"SELECT {_FCOLS} FROM (SELECT s.id FROM generate_series({top}, 0, -1) AS b(n) CROSS JOIN LATERAL ("
        f"{inner} ORDER BY f.id + 0 DESC LIMIT %s) s LIMIT %s) s JOIN files f ON f.id = s.id"
    )
    params += post_params
    return sql, [*top_params, *params, limit + 1, limit + 1]


def search_files(rt: Any, *, limit: int = 50, cursor: int | None = None, **f: Any) -> list[dict[str, Any]]:
    """Run the search on ``rt.catalog``; up to ``limit + 1`` rows, newest first (``id`` descending)."""
    sql, params = build_query(limit=limit, cursor=cursor, **f)
    with rt.catalog.tx() as conn:
        # For this transaction only: a misestimated plan must not also pay for JIT compilation (tens of ms),
        # and index probes are priced as on SSD/cached data; at the default 4.0 the planner prefers the
        # physically ordered files_recorded_at range (20 k rows for a week) to files_unit_time (500 rows).
        with conn.pipeline():  # one round trip for all three statements
            for setting in PLANNER_SETTINGS:
                conn.execute(f"SET LOCAL {setting}")
            # prepare=False: plan with the actual values every time. A server-side prepared statement (psycopg
            # prepares after 5 runs) soon gets a generic plan that cannot see how common a flag, stage or
            # cursor position is, and walks the primary key through most of the table for a rare one.
            cur = conn.execute(sql, params, prepare=False)
        rows = cur.fetchall()
    rows.sort(key=lambda r: r["id"], reverse=True)
    return rows
