"""Accounts: passwords, forced first change, lockout, and the sign-in log — SQL over ``console_credentials``.

People are the ``api_users`` rows (name, role, unit) shared with the JSON API; this module adds a password.
Failure counters are committed even when sign-in fails (the error is raised after the transaction).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from liuhen.console import passwords, policy
from liuhen.console.base import Transactional
from liuhen.console.config import ConsoleSettings
from liuhen.console.errors import AccountLocked, PasswordRejected, SignInFailed

log = logging.getLogger("liuhen.console.auth")
ROLES = ("clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external")
# A valid hash of a random string: unknown users cost the same argon2 work as known ones.
_DUMMY_HASH = passwords.hash_password(policy.new_token())


@dataclass(frozen=True)
class Account:
    user_id: int
    name: str
    role: str
    unit_code: str | None
    must_change: bool


def auth_log(conn: psycopg.Connection[Any], user: str, kind: str, ip: str | None, detail: str | None = None) -> None:
    conn.execute(
        "INSERT INTO console_auth_log (user_name, kind, client_ip, detail) VALUES (%s, %s, %s, %s)",
        (user, kind, ip, detail),
    )


def upsert_user(
    conn: psycopg.Connection[Any], *, name: str, role: str, unit_code: str | None
) -> dict[str, Any]:
    """Create ``name`` or update its role and unit (re-enabling it); the same row the API's tokens use."""
    if role not in ROLES:
        raise PasswordRejected(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not name.strip() or name != name.strip() or len(name) > 64:
        raise PasswordRejected(f"user name {name!r} must be 1–64 characters without surrounding spaces")
    row = conn.execute(
        "INSERT INTO api_users (name, role, unit_code) VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
        "SET role = EXCLUDED.role, unit_code = EXCLUDED.unit_code, disabled = false RETURNING *",
        (name, role, unit_code),
    ).fetchone()
    assert row is not None
    return dict(row)


def set_password(
    conn: psycopg.Connection[Any],
    *,
    user: str,
    password: str,
    settings: ConsoleSettings,
    must_change: bool = True,
    actor: str,
) -> None:
    """Set ``user``'s password (policy-checked). Set by someone else ⇒ ``must_change`` (first-password change)."""
    passwords.check_policy(password, user=user, min_length=settings.password_min_length)
    u = conn.execute("SELECT id FROM api_users WHERE name = %s", (user,)).fetchone()
    if u is None:
        raise SignInFailed(f"no user {user!r}")
    conn.execute(
        "INSERT INTO console_credentials (user_id, password_hash, must_change) VALUES (%s, %s, %s) "
        "ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, must_change = "
        "EXCLUDED.must_change, changed_at = now(), failed_count = 0, locked_until = NULL",
        (u["id"], passwords.hash_password(password), must_change),
    )
    auth_log(conn, user, "password_set", None, f"by {actor}")


def _account(row: dict[str, Any]) -> Account:
    return Account(row["id"], row["name"], row["role"], row["unit_code"], bool(row["must_change"]))


def sign_in(
    catalog: Transactional, user: str, password: str, *, settings: ConsoleSettings, ip: str | None
) -> Account:
    """Check ``user``'s password. Raises ``SignInFailed`` (one message for every reason) or ``AccountLocked``;
    the N-th consecutive failure locks the account for ``lockout_minutes`` (logged as ``lockout``)."""
    now = datetime.now(UTC)
    outcome: Exception | None = None
    with catalog.tx() as conn:
        row = conn.execute(
            "SELECT u.id, u.name, u.role, u.unit_code, u.disabled, c.password_hash, c.must_change, c.failed_count, "
            "c.locked_until FROM api_users u JOIN console_credentials c ON c.user_id = u.id WHERE u.name = %s "
            "FOR UPDATE OF c",
            (user,),
        ).fetchone()
        if row is None or row["disabled"]:
            passwords.verify_password(_DUMMY_HASH, password)
            auth_log(conn, user[:200], "failure", ip, "unknown or disabled user")
            outcome = SignInFailed("wrong user name or password")
        elif policy.is_locked(row["locked_until"], now):
            auth_log(conn, user, "locked_attempt", ip, None)
            outcome = AccountLocked(user, row["locked_until"])
        elif not passwords.verify_password(row["password_hash"], password):
            outcome = _failure(conn, row, now, settings, ip)
        else:
            _success(conn, row, password, ip)
    if outcome is not None:
        raise outcome
    assert row is not None
    return _account(row)


def _failure(
    conn: psycopg.Connection[Any], row: dict[str, Any], now: datetime, settings: ConsoleSettings, ip: str | None
) -> Exception:
    lock = policy.after_failure(
        row["failed_count"], now, max_failures=settings.lockout_failures,
        lock_for=timedelta(minutes=settings.lockout_minutes),
    )
    conn.execute(
        "UPDATE console_credentials SET failed_count = %s, last_failed_at = %s, locked_until = %s WHERE user_id = %s",
        (lock.failed_count, now, lock.locked_until, row["id"]),
    )
    auth_log(conn, row["name"], "failure", ip, "wrong password")
    if lock.locked_until is not None:
        auth_log(conn, row["name"], "lockout", ip, f"{settings.lockout_failures} failures; until {lock.locked_until}")
        log.warning("console account %s locked until %s after %d failures", row["name"], lock.locked_until,
                    settings.lockout_failures)
        return AccountLocked(row["name"], lock.locked_until)
    return SignInFailed("wrong user name or password")


def _success(conn: psycopg.Connection[Any], row: dict[str, Any], password: str, ip: str | None) -> None:
    new_hash = passwords.hash_password(password) if passwords.needs_rehash(row["password_hash"]) else None
    conn.execute(
        "UPDATE console_credentials SET failed_count = 0, locked_until = NULL, "
        "password_hash = coalesce(%s, password_hash) WHERE user_id = %s",
        (new_hash, row["id"]),
    )
    auth_log(conn, row["name"], "login", ip, None)


def change_password(
    conn: psycopg.Connection[Any], *, user_id: int, old: str, new: str, settings: ConsoleSettings, ip: str | None
) -> None:
    """The user's own change: the current password is re-checked; clears ``must_change``."""
    row = conn.execute(
        "SELECT u.name, c.password_hash FROM api_users u JOIN console_credentials c ON c.user_id = u.id "
        "WHERE u.id = %s FOR UPDATE OF c",
        (user_id,),
    ).fetchone()
    if row is None or not passwords.verify_password(row["password_hash"], old):
        raise PasswordRejected("the current password is wrong")
    passwords.check_policy(new, user=row["name"], min_length=settings.password_min_length, old_password=old)
    conn.execute(
        "UPDATE console_credentials SET password_hash = %s, must_change = false, changed_at = now() "
        "WHERE user_id = %s",
        (passwords.hash_password(new), user_id),
    )
    auth_log(conn, row["name"], "password_change", ip, None)


def unlock(conn: psycopg.Connection[Any], *, user: str, actor: str) -> None:
    conn.execute(
        "UPDATE console_credentials c SET failed_count = 0, locked_until = NULL FROM api_users u "
        "WHERE u.id = c.user_id AND u.name = %s",
        (user,),
    )
    auth_log(conn, user, "unlock", None, f"by {actor}")


def list_accounts(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT u.id, u.name, u.role, u.unit_code, u.disabled, u.created_at, c.must_change, c.changed_at, "
        "c.failed_count, c.locked_until, (c.user_id IS NOT NULL) AS has_password FROM api_users u "
        "LEFT JOIN console_credentials c ON c.user_id = u.id ORDER BY u.name"
    ).fetchall()
