"""Password hashing (argon2id, ``argon2-cffi``) and the password policy. Pure: no I/O."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from liuhen.console.errors import PasswordRejected

# RFC 9106 "second recommended" profile (64 MiB, t=3, p=4) is the argon2-cffi default; kept explicit.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16)
MAX_LENGTH = 1024  # argon2 takes anything; refuse absurd inputs before spending 64 MiB on them


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; False on mismatch or an unreadable hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


def check_policy(password: str, *, user: str, min_length: int, old_password: str | None = None) -> None:
    """Raise ``PasswordRejected`` naming the rule a new password breaks."""
    if len(password) < min_length:
        raise PasswordRejected(f"password must have at least {min_length} characters (got {len(password)})")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"password must have at most {MAX_LENGTH} characters")
    if password.strip() != password:
        raise PasswordRejected("password must not start or end with whitespace")
    if user and user.casefold() in password.casefold():
        raise PasswordRejected("password must not contain the user name")
    if len(set(password)) < 4:
        raise PasswordRejected("password must use at least 4 different characters")
    if old_password is not None and password == old_password:
        raise PasswordRejected("the new password must differ from the current one")
