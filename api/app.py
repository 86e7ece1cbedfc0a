"""The FastAPI application: ``create_app(runtime)``.

Only ``/health`` is anonymous; every other route carries the one ``authorize`` dependency, which
looks its route name up in ``api.roles.MATRIX``. Errors are RFC 9457 problem+json.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from liuhen.api.auth import authorize
from liuhen.api.errors import RangeNotSatisfiable
from liuhen.api.http import HeadAsGet, all_routes, allowed_methods
from liuhen.api.models import Health
from liuhen.api.routes import cases as case_routes
from liuhen.api.routes import files as file_routes
from liuhen.api.routes import oversight, problems
from liuhen.api.routes import publication as publication_routes
from liuhen.api.routes import redaction as redaction_routes
from liuhen.core.errors import LiuhenError
from liuhen.runtime import Runtime

__all__ = ["all_routes", "create_app", "problem"]  # all_routes: re-exported for callers of api.app
log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None, instance: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "instance": instance}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Liuhen API",
        version="0.1.0",
        description="Evidence management for law-enforcement recorders: cases, supervised retrieval, playback, "
        "audit proofs. Bearer tokens (`liuhen token issue`); only /health is anonymous.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime

    @app.exception_handler(LiuhenError)
    def _liuhen(request: Request, exc: LiuhenError) -> JSONResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, RangeNotSatisfiable):
            headers["Content-Range"] = f"bytes */{exc.size}"
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="liuhen"'
        if exc.status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return problem(exc.status, exc.title, str(exc), request.url.path, headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        return problem(422, "Invalid request", errs, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
        return problem(exc.status_code, str(exc.detail), None, request.url.path, headers)

    @app.exception_handler(psycopg.DataError)
    def _data(request: Request, exc: psycopg.DataError) -> JSONResponse:
        return problem(422, "Invalid value", str(exc).splitlines()[0], request.url.path)

    @app.exception_handler(Exception)
    def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "Internal error", type(exc).__name__, request.url.path)

    @app.get("/health", name="health", response_model=Health, tags=["meta"])
    def health() -> dict[str, Any]:
        """Liveness and database reachability (the only anonymous endpoint)."""
        try:
            runtime.catalog.one("SELECT 1 AS ok")
            return {"status": "ok", "database": True}
        except LiuhenError:
            return {"status": "degraded", "database": False}

    @app.get(
        "/openapi.json",
        name="openapi",
        tags=["meta"],
        responses=problems(),
        dependencies=[Depends(authorize)],
        include_in_schema=False,
    )
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    app.include_router(case_routes.router)
    app.include_router(file_routes.router)
    app.include_router(oversight.router)
    app.include_router(publication_routes.router)
    app.include_router(redaction_routes.router)
    _document_journal_refusal(app)
    app.add_middleware(HeadAsGet)
    return app


def _document_journal_refusal(app: FastAPI) -> None:
    """Every authorised route can answer 503 (its read-journal row could not be written): say so in OpenAPI."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            for path, ops in schema.get("paths", {}).items():
                for op in ops.values():
                    responses = op.get("responses", {})
                    if path != "/health" and "401" in responses and "503" not in responses:
                        responses["503"] = {
                            "description": "Read audit unavailable (the request could not be journaled) "
                            "or another component this endpoint needs is unavailable",
                            "content": responses["401"].get("content", {}),
                        }
        return app.openapi_schema or plain()

    app.openapi = openapi  # type: ignore[method-assign]
