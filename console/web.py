"""Request plumbing shared by every page: security headers, rendering, the session gate and CSRF.

``gate(request, name)`` is the only thing that lets a page run: session cookie → live session → role
allowed by the one table (``pages.allowed``) → one read-journal row (same transaction as the session touch)
unless the page records its own access event. Anonymous requests are redirected to the login page.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from liuhen.console import labels, pages, policy, sessions, timefmt
from liuhen.console.config import ConsoleSettings
from liuhen.console.errors import CsrfRejected, PageForbidden, PasswordChangeRequired, SessionInvalid
from liuhen.console.i18n import environment, gettext_for, negotiate
from liuhen.console.services import Principal, ReadAuditUnavailable, readaudit

COOKIE = "liuhen_session"
LANG_COOKIE = "liuhen_lang"
PRE_COOKIE = "liuhen_pre"  # login-form CSRF (double submit) before a session exists
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        h = response.headers
        h["Content-Security-Policy"] = CSP
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith(request.scope.get("root_path", "") + "/static/"):
            h["Cache-Control"] = "no-store"
        return response


@dataclass
class Ctx:
    """One request's view of the console: settings, language, the signed-in user (if any)."""

    request: Request
    settings: ConsoleSettings
    lang: str
    me: sessions.Session | None = None

    @property
    def runtime(self) -> Any:
        return self.request.app.state.runtime

    @property
    def principal(self) -> Principal:
        assert self.me is not None
        return Principal(self.me.name, self.me.role, self.me.unit_code, None, self.me.user_id)

    def _(self, msg: str, **kw: Any) -> str:
        s = gettext_for(self.lang)(msg)
        return s % kw if kw else s

    def url(self, path: str) -> str:
        return self.request.scope.get("root_path", "") + path

    def render(self, template: str, status: int = 200, **kw: Any) -> HTMLResponse:
        env = environment(self.lang)
        zone = self.settings.zone
        nav = [(p, label) for p, name, label in labels.NAV if self.me and pages.allowed(name, self.me.role)]
        ctx = {
            "me": self.me, "csrf": self.me.csrf if self.me else None, "nav": nav, "url": self.url,
            "zone_name": self.settings.timezone, "role_label": labels.role_label, "stage_label": labels.stage_label,
            "recording_label": labels.recording_label, "active": kw.pop("active", None), **kw,
        }
        tmpl = env.get_template(template)
        tmpl.environment.filters.setdefault("lt", lambda v: timefmt.local(v, zone))
        tmpl.environment.filters.setdefault("mb", lambda n: f"{(n or 0) / 1e6:.1f} MB")
        resp = HTMLResponse(tmpl.render(**ctx), status_code=status)
        q = self.request.query_params.get("lang")
        if q and q == self.lang:
            resp.set_cookie(LANG_COOKIE, q, max_age=365 * 86400, httponly=True, samesite="strict",
                            secure=secure(self.request, self.settings), path="/")
        return resp


def secure(request: Request, settings: ConsoleSettings) -> bool:
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return request.url.scheme == "https"


def context(request: Request) -> Ctx:
    settings: ConsoleSettings = request.app.state.console_settings
    lang = negotiate(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), settings.console_language)
    return Ctx(request, settings, lang)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def gate(request: Request, name: str, *, allow_must_change: bool = False) -> Ctx:
    """Authorise one page view (see module doc). Raises ``SessionInvalid`` / ``PageForbidden`` /
    ``PasswordChangeRequired``; the app turns them into a login redirect or an error page."""
    ctx = context(request)
    rt = ctx.runtime
    try:
        with rt.catalog.tx() as conn:
            me, reason = sessions.resolve(conn, request.cookies.get(COOKIE), settings=ctx.settings,
                                          ip=_ip(client_ip(request)))
            if me is not None and pages.allowed(name, me.role) and not (me.must_change and not allow_must_change):
                if name not in pages.ACCESS_EVENT_PAGES:
                    readaudit.journal(
                        conn, user=me.name, role=me.role, token_id=None, route=name, method=request.method,
                        raw_path=request.scope.get("raw_path") or request.url.path,
                        query=request.scope.get("query_string"), client_host=client_ip(request),
                    )
    except psycopg.Error as exc:
        raise ReadAuditUnavailable(f"session check or read journal failed ({type(exc).__name__})") from exc
    if me is None:
        raise SessionInvalid(reason or "none")
    ctx.me = me
    if me.must_change and not allow_must_change:
        raise PasswordChangeRequired("choose your own password first")
    if not pages.allowed(name, me.role):
        raise PageForbidden(f"role {me.role!r} may not open {name!r}")
    return ctx


def _ip(host: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


async def check_csrf(request: Request, ctx: Ctx) -> dict[str, str]:
    """Every state-changing request: same-origin (Sec-Fetch-Site / Origin) AND the session's CSRF token."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    token = data.get("csrf") or request.headers.get("x-csrf-token")
    h = request.headers
    if not policy.same_origin(h.get("origin"), h.get("referer"), h.get("host"), h.get("sec-fetch-site")):
        raise CsrfRejected("cross-site request")
    if ctx.me is None or not policy.csrf_ok(ctx.me.csrf, token):
        raise CsrfRejected("missing or wrong CSRF token")
    return data


def login_redirect(ctx: Ctx) -> RedirectResponse:
    nxt = ctx.request.url.path
    if ctx.request.url.query:
        nxt += "?" + ctx.request.url.query
    resp = RedirectResponse(ctx.url("/login") + "?next=" + quote(nxt, safe=""), status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp
