"""Sign in, sign out, password change, the start page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liuhen.console import accounts, labels, policy, sessions, timefmt
from liuhen.console.errors import AccountLocked, PasswordRejected, SignInFailed
from liuhen.console.web import COOKIE, PRE_COOKIE, Ctx, _ip, check_csrf, client_ip, context, gate, secure

router = APIRouter()


def _safe_next(ctx: Ctx, nxt: str | None) -> str:
    root = ctx.url("")
    if nxt and nxt.startswith(root + "/") and not nxt.startswith("//") and "\\" not in nxt:
        return nxt
    return ctx.url("/")


def _login_page(ctx: Ctx, *, error: str | None = None, user: str | None = None, status: int = 200) -> Response:
    pre = policy.new_token()
    resp = ctx.render("login.html", status=status, login_csrf=pre, error=error, user=user,
                      next=ctx.request.query_params.get("next"))
    resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=secure(ctx.request, ctx.settings),
                    path=ctx.url("/login"), max_age=3600)
    return resp


@router.get("/login", name="console.login")
def login_form(request: Request) -> Response:
    return _login_page(context(request))


@router.post("/login", name="console.login_post")
async def login(request: Request) -> Response:
    ctx = context(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    h = request.headers
    if not (policy.same_origin(h.get("origin"), h.get("referer"), h.get("host"), h.get("sec-fetch-site"))
            and policy.csrf_ok(request.cookies.get(PRE_COOKIE), form.get("csrf"))):
        return _login_page(ctx, error=ctx._(labels.MSG_FORM_EXPIRED), status=403)
    user, password = form.get("user", "")[:200], form.get("password", "")
    rt = ctx.runtime
    ip = client_ip(request)
    try:
        account = accounts.sign_in(rt.catalog, user, password, settings=ctx.settings, ip=_ipv(ip))
    except AccountLocked as exc:
        until = timefmt.local(exc.until, ctx.settings.zone) if isinstance(exc.until, datetime) else str(exc.until)
        return _login_page(ctx, error=ctx._(labels.MSG_LOCKED, until=until), user=user, status=423)
    except SignInFailed:
        return _login_page(ctx, error=ctx._(labels.MSG_BAD_LOGIN), user=user, status=401)
    with rt.catalog.tx() as conn:
        token, _s = sessions.create(conn, account, settings=ctx.settings, ip=_ipv(ip),
                                    user_agent=h.get("user-agent"))
    target = ctx.url("/password") if account.must_change else _safe_next(ctx, form.get("next"))
    resp = RedirectResponse(target, status_code=303)
    _set_session_cookie(resp, ctx, token)
    resp.delete_cookie(PRE_COOKIE, path=ctx.url("/login"))
    return resp


def _ipv(host: str | None) -> str | None:
    return _ip(host)


def _set_session_cookie(resp: Response, ctx: Ctx, token: str) -> None:
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure(ctx.request, ctx.settings),
                    path="/")


@router.post("/logout", name="console.logout")
async def logout(request: Request) -> Response:
    ctx = gate(request, "console.home", allow_must_change=True)
    await check_csrf(request, ctx)
    assert ctx.me is not None
    with ctx.runtime.catalog.tx() as conn:
        sessions.end(conn, ctx.me.id, "logout")
        accounts.auth_log(conn, ctx.me.name, "logout", _ipv(client_ip(request)))
    resp = RedirectResponse(ctx.url("/login"), status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/password", name="console.password")
def password_form(request: Request) -> Response:
    ctx = gate(request, "console.password", allow_must_change=True)
    return ctx.render("password.html")


@router.post("/password", name="console.password_post")
async def password_change(request: Request) -> Response:
    ctx = gate(request, "console.password", allow_must_change=True)
    form = await check_csrf(request, ctx)
    assert ctx.me is not None
    if form.get("new") != form.get("again"):
        return ctx.render("password.html", status=422, error=ctx._(labels.MSG_PASSWORDS_DIFFER))
    try:
        with ctx.runtime.catalog.tx() as conn:
            accounts.change_password(conn, user_id=ctx.me.user_id, old=form.get("old", ""), new=form.get("new", ""),
                                     settings=ctx.settings, ip=_ipv(client_ip(request)))
            # a new password ends every session of the user, this one included: sign in afresh (no fixation)
            sessions.end_all(conn, ctx.me.user_id, "password_change")
    except PasswordRejected as exc:
        return ctx.render("password.html", status=422, error=str(exc))
    resp = RedirectResponse(ctx.url("/login"), status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/", name="console.home")
def home(request: Request) -> Response:
    ctx = gate(request, "console.home")
    return ctx.render("home.html")


