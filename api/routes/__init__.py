"""Route modules; each route has an explicit ``name`` that is its key in ``api.roles.MATRIX``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request

from liuhen.api.models import Problem
from liuhen.cases.values import CASE_NO_PATTERN

# A case number in a path follows the case-number rule (no control characters, '/', '\\', nor only dots).
CaseNoPath = Annotated[str, Path(min_length=1, max_length=500, pattern=CASE_NO_PATTERN, description="案号")]
_PROBLEM = {"application/problem+json": {"schema": Problem.model_json_schema()}}


def problems(*codes: int, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem+json errors a route can return (``public``: a route that
    needs no login, so never 401/403)."""
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
    base = {400, 422} if public else {400, 401, 403, 422}
    return {c: {"description": text[c], "content": _PROBLEM} for c in sorted({*base, *codes})}


def runtime_of(request: Request) -> Any:
    return request.app.state.runtime
