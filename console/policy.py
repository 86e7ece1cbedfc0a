"""Pure rules of signing in: lockout after repeated failures, session idle/absolute timeouts, CSRF checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Lockout:
    failed_count: int
    locked_until: datetime | None


def after_failure(failed_count: int, now: datetime, *, max_failures: int, lock_for: timedelta) -> Lockout:
    """Counters after one more failed password: the ``max_failures``-th consecutive failure locks the account
    until ``now + lock_for`` and resets the count (the next lock needs ``max_failures`` failures again)."""
    n = failed_count + 1
    if n >= max_failures:
        return Lockout(0, now + lock_for)
    return Lockout(n, None)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def session_end_reason(
    created_at: datetime, last_seen_at: datetime, now: datetime, *, idle: timedelta, absolute: timedelta
) -> str | None:
    """``None`` while the session is valid, else why it ended: ``"absolute"`` (checked first) or ``"idle"``."""
    if now >= created_at + absolute:
        return "absolute"
    if now >= last_seen_at + idle:
        return "idle"
    return None


def new_token() -> str:
    """A session or CSRF token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token with the one a form or header carried."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def same_origin(origin: str | None, referer: str | None, host: str | None, sec_fetch_site: str | None) -> bool:
    """Defence in depth for state-changing requests: a browser that says the request is cross-site, or whose
    Origin (or, without one, Referer) names another host, is refused. Non-browser clients sending neither
    header are judged by the CSRF token alone."""
    if sec_fetch_site is not None and sec_fetch_site not in ("same-origin", "none"):
        return False
    source = origin if origin and origin != "null" else referer
    if origin == "null":
        return False
    if not source:
        return True
    return bool(host) and urlsplit(source).netloc.lower() == (host or "").lower()
