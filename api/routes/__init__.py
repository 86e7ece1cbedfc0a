"""Route modules; each route has an explicit ``name`` that is its key in ``api.roles.MATRIX``."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from liuhen.api.models import Problem

_PROBLEM = {"application/problem+json": {"schema": Problem.model_json_schema()}}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem+json errors a route can return."""
    text = {
        400: "Bad request (a malformed body or request)",
        401: "Missing, unknown, expired or revoked bearer token",
        403: "Role not allowed by the role matrix, or no approved request",
        404: "Not found",
        409: "Conflict with the current state (stage order, legal review gate, already decided)",
        413: "Upload too large",
        416: "Range not satisfiable",
        422: "Invalid request",
        428: "A stated purpose is required (query `purpose` or header X-Liuhen-Purpose)",
        503: "A component this endpoint needs is unavailable",
    }
    return {c: {"description": text[c], "content": _PROBLEM} for c in sorted({400, 401, 403, 422, *codes})}


def runtime_of(request: Request) -> Any:
    return request.app.state.runtime
