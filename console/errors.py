"""Every error the console raises on purpose (subclasses of the one ``LiuhenError``)."""

from __future__ import annotations

from liuhen.core.errors import LiuhenError


class ConsoleError(LiuhenError):
    status = 400
    title = "Console error"


class SignInFailed(ConsoleError):
    """Unknown user, wrong password or disabled account (one message for all: no user enumeration)."""

    status = 401
    title = "Sign-in failed"


class AccountLocked(ConsoleError):
    status = 423
    title = "Account locked"

    def __init__(self, user: str, until: object) -> None:
        super().__init__(f"account {user!r} is locked until {until}")
        self.user = user
        self.until = until


class SessionInvalid(ConsoleError):
    """No session cookie, an unknown or ended session, or an idle/absolute timeout."""

    status = 401
    title = "Not signed in"


class PasswordChangeRequired(ConsoleError):
    status = 403
    title = "Password change required"


class PasswordRejected(ConsoleError):
    """A new password that breaks the policy (too short, the user name, the old one…)."""

    status = 422
    title = "Password rejected"


class CsrfRejected(ConsoleError):
    status = 403
    title = "Cross-site request refused"


class PageForbidden(ConsoleError):
    status = 403
    title = "Forbidden"


class PlaybackPurposeMissing(ConsoleError):
    """This session has stated no (recent) purpose for this file on the player page: no playback grant.

    The console's own gate before streaming; the case rule it enforces is ``liuhen.cases.errors.PurposeRequired``.
    """

    status = 428
    title = "Purpose required"
