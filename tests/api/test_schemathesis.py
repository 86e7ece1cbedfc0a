"""Property-based API fuzzing (schemathesis) against the OpenAPI schema: no server errors (5xx). Each operation
is called as a role the matrix allows (so requests get past authorisation), a few examples each (< 60 s)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import bearer

pytestmark = pytest.mark.slow  # schemathesis over every route: ~70 s

MAX_EXAMPLES = 6


def test_no_server_errors(app, tokens):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=bearer(tokens["supervisor"]))
    from liuhen.api.app import all_routes
    from liuhen.api.roles import MATRIX, ROLES

    role_of = {}
    for r in all_routes(app):
        for m in r.methods:
            allowed = [x for x in ROLES if x in MATRIX.get(r.name, ROLES)]
            role_of[(m, r.path)] = allowed[0]
    failures: list[str] = []
    ops = 0
    for result in schema.get_all_operations():
        op = result.ok()
        ops += 1

        @given(case=op.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            for role in (role_of[(case.method.upper(), case.path)],):
                resp = case.call(headers=bearer(tokens[role]))
                if resp.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} as {role}: {resp.status_code} {resp.text[:300]}"
                    )

        run()
    assert ops >= 30
    assert not failures, "\n".join(failures[:20])
