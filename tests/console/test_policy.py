"""Known answers for the pure sign-in rules (lockout, session timeouts, CSRF, same-origin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liuhen.console import policy

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_lockout_on_the_nth_failure_and_counter_resets() -> None:
    # 5 allowed: failures 1..4 only count; the 5th locks for exactly lock_for from that moment.
    n = 0
    for expected in (1, 2, 3, 4):
        lock = policy.after_failure(n, T0, max_failures=5, lock_for=timedelta(minutes=15))
        assert lock == policy.Lockout(expected, None)
        n = lock.failed_count
    lock = policy.after_failure(n, T0, max_failures=5, lock_for=timedelta(minutes=15))
    assert lock == policy.Lockout(0, T0 + timedelta(minutes=15))
    assert policy.is_locked(lock.locked_until, T0 + timedelta(minutes=14, seconds=59))
    assert not policy.is_locked(lock.locked_until, T0 + timedelta(minutes=15))


def test_session_idle_and_absolute_timeouts() -> None:
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    kw = {"idle": idle, "absolute": absolute}
    assert policy.session_end_reason(T0, T0, T0 + timedelta(minutes=29), **kw) is None
    assert policy.session_end_reason(T0, T0, T0 + timedelta(minutes=30), **kw) == "idle"
    # active all day: idle never triggers, the absolute limit does at created + 12 h
    last = T0 + timedelta(hours=11, minutes=59)
    assert policy.session_end_reason(T0, last, T0 + timedelta(hours=11, minutes=59, seconds=30), **kw) is None
    assert policy.session_end_reason(T0, last, T0 + timedelta(hours=12), **kw) == "absolute"


def test_csrf_compare_and_origin_rules() -> None:
    assert policy.csrf_ok("abc", "abc")
    assert not policy.csrf_ok("abc", "abd")
    assert not policy.csrf_ok("abc", None) and not policy.csrf_ok(None, None)
    assert policy.same_origin("http://h:8000", None, "h:8000", "same-origin")
    assert not policy.same_origin("http://evil.example", None, "h:8000", None)
    assert not policy.same_origin(None, None, "h:8000", "cross-site")
    assert not policy.same_origin("null", None, "h:8000", None)
    assert policy.same_origin(None, "http://h:8000/ui/x", "h:8000", None)
    assert policy.same_origin(None, None, "h:8000", None)  # non-browser client: CSRF token alone decides
    assert len(policy.new_token()) >= 43 and policy.token_hash("x") == (
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # sha256(b"x")
    )
