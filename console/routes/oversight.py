"""Supervised retrieval (requests, the supervisor's inbox, downloads once approved), oversight, admin, audit."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liuhen.console import accounts
from liuhen.console.services import access, list_tokens, ranged_response, readaudit, scope
from liuhen.console.web import Ctx, check_csrf, gate
from liuhen.core.errors import NotFound

router = APIRouter()
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _requests(ctx: Ctx, *, mine: bool) -> list[dict[str, Any]]:
    assert ctx.me is not None
    if mine:
        return ctx.runtime.catalog.all(
            "SELECT * FROM access_requests WHERE requester = %s ORDER BY id DESC LIMIT 200", (ctx.me.name,))
    return ctx.runtime.catalog.all(
        "SELECT * FROM access_requests ORDER BY (status = 'pending') DESC, id DESC LIMIT 200")


@router.get("/requests", name="console.requests")
def requests_page(request: Request) -> Response:
    ctx = gate(request, "console.requests")
    return ctx.render("requests.html", requests=_requests(ctx, mine=True), decide=False, active="/requests")


@router.post("/requests", name="console.request_create")
async def request_create(request: Request) -> Response:
    ctx = gate(request, "console.request_create")
    form = await check_csrf(request, ctx)
    shas = [s.strip().lower() for s in form.get("sha256", "").split() if s.strip()]
    access.create_request(ctx.runtime, ctx.principal, kind=form.get("kind", ""), purpose=form.get("purpose", ""),
                          case_no=form.get("case_no") or None, files=shas)
    return RedirectResponse(ctx.url("/requests"), status_code=303)


@router.get("/inbox", name="console.inbox")
def inbox(request: Request) -> Response:
    ctx = gate(request, "console.inbox")
    return ctx.render("inbox.html", requests=_requests(ctx, mine=False), decide=True, active="/inbox")


@router.post("/inbox/{request_id}", name="console.decide")
async def decide(request: Request, request_id: int) -> Response:
    ctx = gate(request, "console.decide")
    form = await check_csrf(request, ctx)
    access.decide(ctx.runtime, request_id, ctx.principal, approve=form.get("decision") == "approve",
                  note=form.get("note") or None)
    return RedirectResponse(ctx.url("/inbox"), status_code=303)


@router.get("/requests/{request_id}/files/{sha256}", name="console.download")
def download(request: Request, request_id: int, sha256: str) -> Response:
    """The original, once the caller's own download request covering it is approved (event before bytes)."""
    ctx = gate(request, "console.download")
    sha = sha256.lower()
    f = ctx.runtime.catalog.one("SELECT * FROM files WHERE sha256 = %s", (sha,)) if HEX64.match(sha) else None
    if f is None:
        raise NotFound(f"no stored file {sha256[:64]}")
    req = access.require_approved(ctx.runtime, request_id, ctx.principal, kind="download", sha256=sha)
    access.ensure_access_recorded(ctx.runtime, ctx.principal, "download", purpose=req["purpose"], file=f,
                                  request_id=req["id"])
    key, rt = f["storage_key"], ctx.runtime
    resp = ranged_response(request, size=int(f["size"]), etag=f'"{sha}"', media_type="application/octet-stream",
                           reader=lambda a, b: rt.store.get(key, start=a, end=b), last_modified=f["ingested_at"],
                           filename=f"{sha}.{f['ext'] or 'bin'}", attachment=True)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.get("/oversight", name="console.oversight")
def oversight(request: Request, case_no: str | None = None, sha256: str | None = None,
              user: str | None = None) -> Response:
    """Access log, unusual access and the read journal — of the caller's units, as the API's /access/* lists."""
    ctx = gate(request, "console.oversight")
    rt, visible = ctx.runtime, scope.access_row_sql(ctx.principal)
    events = access.access_log(rt, case_no=case_no or None, sha256=(sha256 or "").lower() or None,
                               user=user or None, limit=200, visible=visible)
    flagged = [{"user_name": u.get("user_name") or u.get("user"), "kind": u.get("kind"),
                "detail": ", ".join(f"{k}={v}" for k, v in u.items() if k not in ("user_name", "user", "kind"))}
               for u in access.unusual(rt, visible=visible)]
    reads = readaudit.query(rt.catalog, user=user or None, limit=100, visible=scope.read_row_sql(ctx.principal))
    return ctx.render("oversight.html", events=events, unusual=flagged, reads=reads,
                      f={"case_no": case_no, "sha256": sha256, "user": user}, active="/oversight")


@router.get("/admin", name="console.admin")
def admin(request: Request) -> Response:
    ctx = gate(request, "console.admin")
    rt = ctx.runtime
    with rt.catalog.tx() as conn:
        users = accounts.list_accounts(conn)
    return ctx.render("admin.html", users=users, roles=accounts.ROLES, tokens=list_tokens(rt),
                      recording_list=rt.catalog.all("SELECT * FROM recording_list ORDER BY recording, kind"),
                      active="/admin")


@router.post("/admin/users", name="console.admin_user")
async def admin_user(request: Request) -> Response:
    ctx = gate(request, "console.admin_user")
    form = await check_csrf(request, ctx)
    assert ctx.me is not None
    with ctx.runtime.catalog.tx() as conn:
        accounts.upsert_user(conn, name=form.get("user", ""), role=form.get("role", ""),
                             unit_code=form.get("unit") or None)
        accounts.set_password(conn, user=form.get("user", ""), password=form.get("password", ""),
                              settings=ctx.settings, must_change=True, actor=ctx.me.name)
    return RedirectResponse(ctx.url("/admin"), status_code=303)
