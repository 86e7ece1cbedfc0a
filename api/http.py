"""HTTP method conformance (RFC 9110): ``HEAD`` wherever ``GET`` works (§9.3.2), and a 405 whose
``Allow`` lists every method of the path (§15.5.6), not only those of the first route that matched."""

from __future__ import annotations

from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def all_routes(app: Any) -> list[Any]:
    """Every endpoint route of ``app``, flattening included routers (FastAPI ≥ 0.16x nests them)."""
    out: list[Any] = []

    def walk(routes: list[Any]) -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(list(inner.routes))
            else:
                out.append(r)

    walk(list(app.routes))
    return out


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method some route accepts at this request's path (``HEAD`` with ``GET``)."""
    methods: set[str] = set()
    for r in all_routes(app):
        if getattr(r, "methods", None) and r.matches(scope)[0] != Match.NONE:
            methods |= set(r.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class HeadAsGet:
    """Answer ``HEAD`` as ``GET`` without a body (same status and headers, Content-Length included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] != "http.response.body":
                await send(message)
            elif not ended:  # the first body message ends the response; the rest are dropped
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)
