"""Footage: search, the file page, the supervised player (purpose before the first byte, Range seeking),
thumbnails, linking a marked range, and the multi-camera view of an activity."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liuhen.console import pages, timefmt
from liuhen.console.errors import PlaybackPurposeMissing
from liuhen.console.services import STAGES, access, case_service, file_reader, ranged_response, search_files
from liuhen.console.web import Ctx, check_csrf, gate
from liuhen.core.errors import InvalidRequest, NotFound

router = APIRouter()
HEX64 = re.compile(r"^[0-9a-f]{64}$")
PAGE = 48
SEARCH_FIELDS = ("case_no", "officer", "device", "recorded_from", "recorded_to", "stage", "flag", "sha256")


def _file(ctx: Ctx, sha256: str) -> dict[str, Any]:
    sha = sha256.lower()
    row = ctx.runtime.catalog.one("SELECT * FROM files WHERE sha256 = %s", (sha,)) if HEX64.match(sha) else None
    if row is None:
        raise NotFound(f"no stored file {sha256[:64]}")
    return row


def drift(ctx: Ctx, file_id: int) -> timedelta | None:
    """Recorder clock minus dock clock at the (first) offload that brought this file."""
    row = ctx.runtime.catalog.one(
        "SELECT s.identity->>'clock' AS clock, s.started_at FROM session_files sf JOIN ingest_sessions s "
        "ON s.id = sf.session_id WHERE sf.file_id = %s ORDER BY sf.id LIMIT 1",
        (file_id,),
    )
    if row is None or not row["clock"]:
        return None
    return timefmt.drift(datetime.fromisoformat(row["clock"]), row["started_at"])


def _when(v: str | None) -> datetime | None:
    if not v:
        return None
    try:
        t = datetime.fromisoformat(v)
    except ValueError as exc:
        raise InvalidRequest(f"not a time: {v!r}") from exc
    return t.replace(tzinfo=t.tzinfo or None) if t.tzinfo else t.replace(tzinfo=None)


def _filters(ctx: Ctx, q: dict[str, str]) -> dict[str, Any]:
    zone = ctx.settings.zone
    f: dict[str, Any] = {k: q.get(k) for k in ("case_no", "officer", "device", "flag", "sha256")}
    f["stage"] = q.get("stage") if q.get("stage") in STAGES else None
    for k in ("recorded_from", "recorded_to"):
        t = _when(q.get(k))
        f[k] = t.replace(tzinfo=zone) if t is not None and t.tzinfo is None else t
    if f["sha256"] and not re.fullmatch(r"[0-9a-fA-F]{6,64}", f["sha256"]):
        raise InvalidRequest("digest: 6 to 64 hex digits")
    return f


def search_purpose(ctx: Ctx, tp: str | None) -> dict[str, Any] | None:
    """The purpose this session stated for thumbnails in search results (the grant row it made), if still fresh."""
    assert ctx.me is not None
    if not tp or not tp.isdigit() or len(tp) > 18:
        return None
    return ctx.runtime.catalog.one(
        "SELECT * FROM console_playback WHERE id = %s AND session_id = %s AND granted_at > %s",
        (int(tp), ctx.me.id, datetime.now(UTC) - timedelta(minutes=ctx.settings.playback_grant_minutes)))


def thumbnails_for(ctx: Ctx, rows: list[dict[str, Any]], purpose: str) -> dict[str, str]:
    """sha256 → thumbnail URL for the results that have one, each under a grant of this session with the stated
    purpose; the thumbnail request itself records the ``access.view`` event before its first byte (I5)."""
    assert ctx.me is not None
    cat = ctx.runtime.catalog
    ids = [r["id"] for r in rows]
    thumbs = cat.all("SELECT DISTINCT ON (file_id) file_id, seq FROM derivatives WHERE kind = 'thumbnail' "
                     "AND file_id = ANY(%s) ORDER BY file_id, seq", (ids,)) if ids else []
    seq = {t["file_id"]: t["seq"] for t in thumbs}
    out: dict[str, str] = {}
    with cat.tx() as conn:
        for r in rows:
            if r["id"] not in seq:
                continue
            g = conn.execute(
                "SELECT id FROM console_playback WHERE session_id = %s AND sha256 = %s AND purpose = %s "
                "AND granted_at > now() - make_interval(secs => %s) ORDER BY id DESC LIMIT 1",
                (ctx.me.id, r["sha256"], purpose, ctx.settings.playback_grant_minutes * 60)).fetchone()
            if g is None:
                g = conn.execute("INSERT INTO console_playback (session_id, sha256, purpose) VALUES (%s, %s, %s) "
                                 "RETURNING id", (ctx.me.id, r["sha256"], purpose)).fetchone()
            assert g is not None
            out[r["sha256"]] = ctx.url(f"/files/{r['sha256']}/thumbnails/{seq[r['id']]}?grant={g['id']}")
    return out


@router.get("/files", name="console.search")
def search(request: Request) -> Response:
    ctx = gate(request, "console.search")
    q = {k: v.strip() for k, v in request.query_params.items() if v.strip() and k != "lang"}
    f = _filters(ctx, q)
    cursor = int(q["cursor"]) if q.get("cursor", "").isdigit() else None
    rows = search_files(ctx.runtime, limit=PAGE, cursor=cursor, **f)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    sp = search_purpose(ctx, q.get("tp"))
    thumbs = thumbnails_for(ctx, rows, sp["purpose"]) if sp else {}
    for r in rows:
        r["shown"], r["recorder_clock"] = timefmt.local(r.get("recorded_at"), ctx.settings.zone), None
        r["thumb"] = thumbs.get(r["sha256"])
    form = {k: v for k, v in q.items() if k not in ("cursor", "tp")}
    keep = {**form, "tp": str(sp["id"])} if sp else form
    more_query = urlencode({**keep, "cursor": rows[-1]["id"]}) if more and rows else ""
    return ctx.render("search.html", results=rows, f=form, stages=[(s, s) for s in STAGES], next_cursor=more,
                      more_query=more_query, search_purpose=sp, anchor=rows[0]["sha256"] if rows else None,
                      plain_query=urlencode(form), active="/files")


@router.post("/files/thumbnails-purpose", name="console.search_purpose")
async def state_search_purpose(request: Request) -> Response:
    """State why thumbnails are shown in this session's searches; recorded as a grant row (the events follow
    per thumbnail, before each first byte). Returns to the same search with ``tp`` set."""
    ctx = gate(request, "console.search_purpose")
    form = await check_csrf(request, ctx)
    assert ctx.me is not None
    why = access.check_purpose(form.get("purpose", ""))
    anchor = _file(ctx, form.get("anchor", ""))
    with ctx.runtime.catalog.tx() as conn:
        row = conn.execute("INSERT INTO console_playback (session_id, sha256, purpose) VALUES (%s, %s, %s) "
                           "RETURNING id", (ctx.me.id, anchor["sha256"], why)).fetchone()
    assert row is not None
    keep = {k: v for k, v in form.items() if k in SEARCH_FIELDS and v}
    return RedirectResponse(ctx.url("/files?" + urlencode({**keep, "tp": row["id"]})), status_code=303)


@router.get("/files/{sha256}", name="console.file")
def file_page(request: Request, sha256: str) -> Response:
    ctx = gate(request, "console.file")
    f = _file(ctx, sha256)
    cat = ctx.runtime.catalog
    shown, recorder_clock = timefmt.shown(f["recorded_at"], drift(ctx, f["id"]), ctx.settings.zone)
    derivs = cat.all("SELECT * FROM derivatives WHERE file_id = %s ORDER BY kind, seq", (f["id"],))
    for d in derivs:
        recipe = d.get("recipe") or {}
        argv = recipe.get("argv") or recipe.get("args") or recipe.get("command")
        d["argv"] = " ".join(map(str, argv)) if isinstance(argv, list) else (argv or "")
        d["tool"] = recipe.get("tool") or recipe.get("ffmpeg_version") or ""
    links = cat.all(
        "SELECT c.case_no, l.stage FROM links l JOIN cases c ON c.id = l.case_id WHERE l.file_id = %s "
        "AND l.unlinked_at IS NULL ORDER BY l.id", (f["id"],),
    )
    receipts = cat.all("SELECT DISTINCT session_id FROM session_files WHERE file_id = %s", (f["id"],))
    ev = cat.one("SELECT idx FROM log_events WHERE id = %s", (f["ingest_event_id"],)) if f["ingest_event_id"] else None
    events = cat.all(  # who viewed it is oversight (the oversight page), not shown here
        "SELECT type, actor, created_at, idx FROM log_events WHERE subject_sha256 = %s AND type NOT LIKE 'access.%%' "
        "ORDER BY id DESC LIMIT 100", (f["sha256"],))
    return ctx.render("file.html", f=f, shown=shown, recorder_clock=recorder_clock, derivatives=derivs,
                      links=links, receipts=receipts, log_index=ev["idx"] if ev else None, events=events,
                      active="/files")


def lookup_grant(ctx: Ctx, grant: str | None, sha256: str) -> dict[str, Any]:
    """The purpose this session stated for this file (recent enough), or ``PlaybackPurposeMissing``."""
    assert ctx.me is not None
    if not grant or not grant.isdigit():
        raise PlaybackPurposeMissing("state a purpose on the player page first")
    row = ctx.runtime.catalog.one(
        "SELECT * FROM console_playback WHERE id = %s AND session_id = %s AND sha256 = %s AND granted_at > %s",
        (int(grant), ctx.me.id, sha256.lower(),
         datetime.now(UTC) - timedelta(minutes=ctx.settings.playback_grant_minutes)),
    )
    if row is None:
        raise PlaybackPurposeMissing("no purpose stated for this file in this session (or it expired)")
    return row


def grant_purpose(ctx: Ctx, f: dict[str, Any], purpose: str) -> int:
    """Record the access event (committed) and the session's grant; return the grant id."""
    assert ctx.me is not None
    why = access.check_purpose(purpose)
    proxy = ctx.runtime.catalog.one(
        "SELECT id FROM derivatives WHERE file_id = %s AND kind = 'proxy' ORDER BY seq LIMIT 1", (f["id"],))
    access.ensure_access_recorded(ctx.runtime, ctx.principal, "stream", purpose=why, file=f,
                                  derivative_id=proxy["id"] if proxy else None)
    with ctx.runtime.catalog.tx() as conn:
        row = conn.execute(
            "INSERT INTO console_playback (session_id, sha256, purpose) VALUES (%s, %s, %s) RETURNING id",
            (ctx.me.id, f["sha256"], why),
        ).fetchone()
    assert row is not None
    return int(row["id"])


@router.get("/files/{sha256}/play", name="console.play")
def player(request: Request, sha256: str, grant: str | None = None) -> Response:
    ctx = gate(request, "console.play")
    f = _file(ctx, sha256)
    g = lookup_grant(ctx, grant, f["sha256"]) if grant else None
    cat = ctx.runtime.catalog
    proxy = cat.one("SELECT id FROM derivatives WHERE file_id = %s AND kind = 'proxy' LIMIT 1", (f["id"],))
    thumbs = cat.all("SELECT seq FROM derivatives WHERE file_id = %s AND kind = 'thumbnail' ORDER BY seq", (f["id"],))
    step = ctx.runtime.settings.thumbnail_interval_s
    fixed = timefmt.corrected(f["recorded_at"], drift(ctx, f["id"]))
    assert ctx.me is not None
    return ctx.render(
        "player.html", f=f, grant=g["id"] if g else None, purpose=g["purpose"] if g else None, proxy=proxy,
        thumbs=[{"seq": t["seq"], "t": t["seq"] * step} for t in thumbs], start_ms=timefmt.epoch_ms(fixed),
        can_link=pages.allowed("console.link", ctx.me.role), active="/files",
    )


@router.post("/files/{sha256}/purpose", name="console.purpose")
async def state_purpose(request: Request, sha256: str) -> Response:
    ctx = gate(request, "console.purpose")
    form = await check_csrf(request, ctx)
    f = _file(ctx, sha256)
    gid = grant_purpose(ctx, f, form.get("purpose", ""))
    return RedirectResponse(ctx.url(f"/files/{f['sha256']}/play?grant={gid}"), status_code=303)


def _serve(request: Request, ctx: Ctx, f: dict[str, Any], d: dict[str, Any], purpose: str, kind: str) -> Response:
    access.ensure_access_recorded(ctx.runtime, ctx.principal, kind, purpose=purpose, file=f, derivative_id=d["id"])
    root = ctx.runtime.settings.derived_dir.resolve()
    p = Path(d["path"])
    p = (p if p.is_absolute() else root / p).resolve()
    if not p.is_file():
        raise NotFound(f"derivative {d['id']} is missing on disk")
    resp = ranged_response(request, size=p.stat().st_size, etag=f'"{d["sha256"]}"', media_type=d["mime"],
                           reader=file_reader(p), last_modified=d["created_at"])
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.get("/files/{sha256}/proxy", name="console.proxy")
def proxy(request: Request, sha256: str, grant: str | None = None) -> Response:
    ctx = gate(request, "console.proxy")
    f = _file(ctx, sha256)
    g = lookup_grant(ctx, grant, f["sha256"])
    d = ctx.runtime.catalog.one(
        "SELECT * FROM derivatives WHERE file_id = %s AND kind = 'proxy' ORDER BY seq LIMIT 1", (f["id"],))
    if d is None:
        raise NotFound("no proxy for this file (not yet transcoded?)")
    return _serve(request, ctx, f, d, g["purpose"], "stream")


@router.get("/files/{sha256}/thumbnails/{seq}", name="console.thumbnail")
def thumbnail(request: Request, sha256: str, seq: int, grant: str | None = None) -> Response:
    ctx = gate(request, "console.thumbnail")
    f = _file(ctx, sha256)
    g = lookup_grant(ctx, grant, f["sha256"])
    d = ctx.runtime.catalog.one(
        "SELECT * FROM derivatives WHERE file_id = %s AND kind = 'thumbnail' AND seq = %s", (f["id"], seq))
    if d is None:
        raise NotFound(f"no thumbnail {seq}")
    return _serve(request, ctx, f, d, g["purpose"], "view")


@router.post("/files/{sha256}/link", name="console.link")
async def link(request: Request, sha256: str) -> Response:
    ctx = gate(request, "console.link")
    form = await check_csrf(request, ctx)
    f = _file(ctx, sha256)
    case = case_service.get_case(ctx.runtime, form.get("case_no", ""))
    act = int(form["activity_id"]) if form.get("activity_id", "").isdigit() else None
    stage = next((a["stage"] for a in case["activities"] if a["id"] == act), case["stage"])
    num = lambda k: float(form[k]) if form.get(k) else None  # noqa: E731
    assert ctx.me is not None
    case_service.link_clip(ctx.runtime, case["case_no"], f["sha256"], stage=stage, activity_id=act,
                           t_start_s=num("t_start"), t_end_s=num("t_end"), proves=form.get("proves") or None,
                           actor=ctx.me.name)
    return RedirectResponse(ctx.url(f"/cases/{case['case_no']}"), status_code=303)
