"""The console as a FastAPI sub-application: ``create_console(runtime)`` and ``mount(app, runtime)``.

Mounted under a prefix (default ``/ui``) next to the JSON API; ``/`` and ``/login`` of the parent app
redirect into it. Static files (CSS, ES modules) ship in ``console/static`` and are served by it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from liuhen.console import labels
from liuhen.console.config import ConsoleSettings, get_console_settings
from liuhen.console.errors import ConsoleError, CsrfRejected, PasswordChangeRequired, SessionInvalid
from liuhen.console.i18n import HERE
from liuhen.console.routes import audit, auth, bags, cases, dock, footage, multicam, oversight, redaction, supervision
from liuhen.console.web import SecurityHeaders, context, gate, login_redirect
from liuhen.core.errors import LiuhenError

log = logging.getLogger("liuhen.console")


def create_console(runtime: Any, settings: ConsoleSettings | None = None) -> FastAPI:
    app = FastAPI(title="Liuhen console", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.console_settings = settings or get_console_settings()
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(LiuhenError)
    def _error(request: Request, exc: LiuhenError) -> Response:
        ctx = context(request)
        if isinstance(exc, SessionInvalid):
            return login_redirect(ctx)
        if isinstance(exc, PasswordChangeRequired):
            return RedirectResponse(ctx.url("/password"), status_code=303)
        if exc.status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        if not isinstance(exc, ConsoleError) and request.cookies.get("liuhen_session") is None:
            return login_redirect(ctx)
        try:
            ctx = gate(request, "console.home", allow_must_change=True)
        except LiuhenError:
            pass
        detail = labels.MSG_FORM_EXPIRED if isinstance(exc, CsrfRejected) else labels.error_detail(exc.status)
        return ctx.render("error.html", status=exc.status, status_code=exc.status,
                          heading=ctx._(labels.error_heading(exc.status)), detail=ctx._(detail) if detail else None,
                          technical=f"{exc.title}: {exc}")

    for module in (auth, dock, cases, footage, multicam, oversight, supervision, audit, bags, redaction):
        app.include_router(module.router)
    return app


def mount(app: FastAPI, runtime: Any, prefix: str = "/ui", settings: ConsoleSettings | None = None) -> FastAPI:
    """Serve the console under ``prefix`` of ``app``; ``GET /`` of ``app`` leads to it."""
    console = create_console(runtime, settings)
    if prefix:
        @app.get("/", include_in_schema=False, name="console.root")
        def _root() -> RedirectResponse:
            return RedirectResponse(prefix + "/", status_code=303)

        @app.get("/login", include_in_schema=False, name="console.root_login")
        def _login() -> RedirectResponse:
            return RedirectResponse(prefix + "/login", status_code=303)

    app.mount(prefix or "/", console, name="console")
    return console
