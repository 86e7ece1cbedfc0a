"""The anonymous public feed (``GET /public/publications[.html]``): approved, masked texts only.

It reads the *current* text of every record that is out (``published`` or ``updated``) — the text in
``publications.public_text``, which only ``register.publish`` sets, from an approved text that passed
``check_public``. Nothing else of the catalog is reachable from here: no case rows, no drafts, no
revoked texts.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import psycopg

from liuhen.core.timefmt import local, utc_iso

Conn = psycopg.Connection[Any]
MAX_ITEMS = 500


def items(conn: Conn, *, agency: str | None = None, limit: int = MAX_ITEMS) -> list[dict[str, Any]]:
    """The texts that are out, newest first: case number, agency, version, state, text, time."""
    rows = conn.execute(
        "SELECT case_no, agency, version, state, public_text, published_at FROM publications "
        "WHERE state IN ('published', 'updated') AND public_text IS NOT NULL "
        "AND (%(a)s::text IS NULL OR agency = %(a)s) ORDER BY published_at DESC, id DESC LIMIT %(n)s",
        {"a": agency, "n": max(1, min(limit, MAX_ITEMS))},
    ).fetchall()
    return [{"case_no": r["case_no"], "agency": r["agency"], "version": r["version"], "state": r["state"],
             "text": r["public_text"], "published_at": utc_iso(r["published_at"])} for r in rows]


def render_html(entries: list[dict[str, Any]], zone: str) -> str:
    e = html.escape
    parts = ["<!doctype html><html lang=zh><head><meta charset=utf-8><title>行政执法决定信息公示</title>",
             "<style>body{font-family:sans-serif;max-width:50em;margin:auto}article{border-bottom:1px solid #ccc}"
             "pre{white-space:pre-wrap;font-family:inherit}</style></head><body><h1>行政执法决定信息公示</h1>"]
    for it in entries:
        label = "更新" if it["state"] == "updated" else "公示"
        parts.append(f"<article><h2>{e(it['case_no'])}</h2><p>{label} {e(_when(it['published_at'], zone))}</p>"
                     f"<pre>{e(it['text'])}</pre></article>")
    if not entries:
        parts.append("<p>暂无公示信息。</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _when(iso: str, zone: str) -> str:
    return local(datetime.fromisoformat(iso.replace("Z", "+00:00")), zone)
