"""Server-side console sessions (``console_sessions``): create at sign-in, resolve per request, end.

The cookie carries a random token; only its SHA-256 is stored. A session is resolved inside the caller's
transaction (so the page's read-journal row commits with the ``last_seen_at`` touch). An expired session is
ended with its reason and refused. Signing in always creates a NEW session (no fixation: a token presented
before sign-in is never promoted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from liuhen.console import policy
from liuhen.console.accounts import Account, auth_log
from liuhen.console.config import ConsoleSettings


@dataclass(frozen=True)
class Session:
    id: int
    user_id: int
    name: str
    role: str
    unit_code: str | None
    csrf: str
    must_change: bool
    created_at: datetime


def create(
    conn: psycopg.Connection[Any], account: Account, *, settings: ConsoleSettings, ip: str | None,
    user_agent: str | None,
) -> tuple[str, Session]:
    """A new session for ``account``; returns (cookie token, session)."""
    token, csrf = policy.new_token(), policy.new_token()
    now = datetime.now(UTC)
    row = conn.execute(
        "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, "
        "client_ip, user_agent) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (policy.token_hash(token), account.user_id, csrf, now, now,
         now + timedelta(hours=settings.session_absolute_hours), ip, (user_agent or "")[:400]),
    ).fetchone()
    assert row is not None
    return token, Session(row["id"], account.user_id, account.name, account.role, account.unit_code, csrf,
                          account.must_change, now)


_RESOLVE = (
    "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.ended_at, u.name, u.role, "
    "u.unit_code, u.disabled, coalesce(c.must_change, true) AS must_change FROM console_sessions s "
    "JOIN api_users u ON u.id = s.user_id LEFT JOIN console_credentials c ON c.user_id = u.id "
    "WHERE s.token_hash = %s"
)


def resolve(
    conn: psycopg.Connection[Any], token: str | None, *, settings: ConsoleSettings, ip: str | None = None
) -> tuple[Session | None, str | None]:
    """(session, None) for a live session (its ``last_seen_at`` touched); (None, reason) otherwise, where an
    expired session is ended in this transaction. Reasons: ``none``, ``unknown``, ``ended``, ``idle``,
    ``absolute``, ``disabled``."""
    if not token:
        return None, "none"
    row = conn.execute(_RESOLVE, (policy.token_hash(token),), prepare=True).fetchone()
    if row is None:
        return None, "unknown"
    if row["ended_at"] is not None:
        return None, "ended"
    now = datetime.now(UTC)
    absolute = row["expires_at"] - row["created_at"]
    reason = policy.session_end_reason(
        row["created_at"], row["last_seen_at"], now,
        idle=timedelta(minutes=settings.session_idle_minutes), absolute=absolute,
    )
    if reason is None and row["disabled"]:
        reason = "disabled"
    if reason is not None:
        end(conn, row["id"], reason)
        auth_log(conn, row["name"], "expired", ip, reason)
        return None, reason
    conn.execute("UPDATE console_sessions SET last_seen_at = %s WHERE id = %s", (now, row["id"]), prepare=True)
    return Session(row["id"], row["user_id"], row["name"], row["role"], row["unit_code"], row["csrf_token"],
                   bool(row["must_change"]), row["created_at"]), None


def end(conn: psycopg.Connection[Any], session_id: int, reason: str) -> None:
    conn.execute(
        "UPDATE console_sessions SET ended_at = now(), end_reason = %s WHERE id = %s AND ended_at IS NULL",
        (reason, session_id),
    )


def end_all(conn: psycopg.Connection[Any], user_id: int, reason: str, *, except_id: int | None = None) -> int:
    cur = conn.execute(
        "UPDATE console_sessions SET ended_at = now(), end_reason = %s WHERE user_id = %s AND ended_at IS NULL "
        "AND id IS DISTINCT FROM %s",
        (reason, user_id, except_id),
    )
    return cur.rowcount
