"""Bearer tokens (stored as sha256 of a random token) and the one authorising dependency."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi import Request

from liuhen.api.errors import RoleForbidden, Unauthenticated
from liuhen.api.roles import ACCESS_EVENT_ROUTES, ANONYMOUS, MATRIX, ROLES
from liuhen.cases import readaudit, scope
from liuhen.cases.errors import ReadAuditUnavailable
from liuhen.cases.principal import Principal
from liuhen.core.errors import InvalidRequest, NotFound
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.runtime import Runtime

TOKEN_PREFIX = "lhn_"  # noqa: S105 - a public marker, not a secret



def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_EXPIRES_DAYS = 36_500  # a hundred years; beyond that say --no-expiry
DEFAULT_EXPIRES_DAYS = 90.0  # the CLI's default when neither --expires-days nor --no-expiry is given


def issue_token(
    runtime: Runtime,
    *,
    user: str,
    role: str,
    unit_code: str | None = None,
    actor: str,
    label: str | None = None,
    expires_days: float | None = None,
) -> tuple[str, dict[str, Any]]:
    """Create (or update the role/unit of) ``user`` and issue a token; return (token, row). Logs ``token.issue``.

    ``expires_days=None`` issues a token that never expires; otherwise it must be a positive number of days."""
    if expires_days is not None and not (0 < expires_days <= MAX_EXPIRES_DAYS):
        raise InvalidRequest(
            f"--expires-days must be more than 0 and at most {MAX_EXPIRES_DAYS} (got {expires_days:g}); "
            "for a token that never expires say --no-expiry"
        )
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not user.strip():
        raise InvalidRequest("user must not be empty")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days is not None else None
    with runtime.catalog.tx() as conn:
        u = conn.execute(
            "INSERT INTO api_users (name, role, unit_code) VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
            "SET role = EXCLUDED.role, unit_code = EXCLUDED.unit_code, disabled = false RETURNING *",
            (user, role, unit_code),
        ).fetchone()
        assert u is not None
        row = conn.execute(
            "INSERT INTO api_tokens (user_id, token_hash, prefix, label, issued_by, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id, prefix, label, issued_at, expires_at",
            (u["id"], hash_token(token), token[:10], label, actor, expires),
        ).fetchone()
        assert row is not None
        record(
            conn,
            Event(
                "token.issue", actor, data={"user": user, "role": role, "unit_code": unit_code, "token_id": row["id"]}
            ),
        )
    return token, {**row, "user": user, "role": role, "unit_code": unit_code}


def revoke_token(runtime: Runtime, token_id: int, *, actor: str) -> dict[str, Any]:
    with runtime.catalog.tx() as conn:
        row = conn.execute(
            "UPDATE api_tokens SET revoked_at = now(), revoked_by = %s WHERE id = %s AND revoked_at IS NULL "
            "RETURNING id, user_id",
            (actor, token_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"no active token {token_id}")
        record(conn, Event("token.revoke", actor, data={"token_id": token_id}))
    return dict(row)


def list_tokens(runtime: Runtime) -> list[dict[str, Any]]:
    return runtime.catalog.all(
        "SELECT t.id, u.name AS user, u.role, u.unit_code, t.prefix, t.label, t.issued_by, t.issued_at, "
        "t.expires_at, t.revoked_at FROM api_tokens t JOIN api_users u ON u.id = t.user_id ORDER BY t.id"
    )


def lookup_user(runtime: Runtime, name: str) -> Principal:
    row = runtime.catalog.one("SELECT * FROM api_users WHERE name = %s AND NOT disabled", (name,))
    if row is None:
        raise NotFound(f"no user {name!r} (issue a token with `liuhen token issue` first)")
    return Principal(row["name"], row["role"], row["unit_code"], None, row["id"])


_PRINCIPAL_SQL = (
    "SELECT t.id AS token_id, t.expires_at, t.revoked_at, u.id AS user_id, u.name, u.role, u.unit_code, "
    "u.disabled FROM api_tokens t JOIN api_users u ON u.id = t.user_id WHERE t.token_hash = %s"
)


def _principal(conn: psycopg.Connection[Any], token: str) -> Principal:
    row = conn.execute(_PRINCIPAL_SQL, (hash_token(token),), prepare=True).fetchone()
    if row is None or row["revoked_at"] is not None or row["disabled"]:
        raise Unauthenticated("unknown or revoked token")
    if row["expires_at"] is not None and row["expires_at"] < datetime.now(UTC):
        raise Unauthenticated("token expired")
    return Principal(row["name"], row["role"], row["unit_code"], row["token_id"], row["user_id"])


def principal_for(runtime: Runtime, token: str) -> Principal:
    with runtime.catalog.tx() as conn:
        return _principal(conn, token)


_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def authorize(request: Request) -> Principal:
    """The one dependency: bearer token → principal; the role matrix decides by route name.

    An authorised request to any route but the footage routes (which record their own access event)
    is journaled in ``read_journal`` in the same transaction as the token lookup, before the route
    runs; if that row cannot be committed the request is refused with 503 (fail closed).
    """
    route = request.scope.get("route")
    name = getattr(route, "name", None) or ""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required (Authorization: Bearer …)")
    try:
        with request.app.state.runtime.catalog.tx() as conn:
            principal = _principal(conn, token.strip())
            if name in ANONYMOUS:
                return principal
            if principal.role not in MATRIX.get(name, frozenset()):
                raise RoleForbidden(f"role {principal.role!r} may not call {name or request.url.path!r}")
            if name not in ACCESS_EVENT_ROUTES:
                readaudit.journal(
                    conn,
                    user=principal.name,
                    role=principal.role,
                    token_id=principal.token_id,
                    route=name,
                    method=request.method,
                    raw_path=request.scope.get("raw_path") or request.url.path,
                    query=request.scope.get("query_string"),
                    client_host=request.client.host if request.client else None,
                )
    except psycopg.Error as exc:
        raise ReadAuditUnavailable(
            f"authorisation or read journal failed ({type(exc).__name__}); not served unaudited"
        ) from exc
    check_scope(request, principal)
    return principal


def check_scope(request: Request, who: Principal) -> None:
    """Units are boundaries (``cases.scope``): the case and the file a route names in its path must be
    within the caller's scope, else 404 exactly as for an unknown one. (The request is journaled first.)"""
    case_no = request.path_params.get("case_no")
    sha256 = request.path_params.get("sha256")
    case_ok = isinstance(case_no, str) and case_no and "\x00" not in case_no
    file_ok = isinstance(sha256, str) and _DIGEST.fullmatch(sha256) is not None
    if not case_ok and not file_ok:
        return
    with request.app.state.runtime.catalog.tx() as conn:
        if case_ok:
            scope.check_case(conn, who, str(case_no))
        if file_ok:
            scope.check_file(conn, who, str(sha256))
