"""Every error the publication package raises on purpose (names unique project-wide)."""

from __future__ import annotations

from liuhen.core.errors import Conflict, LiuhenError, NotFound


class PublicationError(LiuhenError):
    status = 400
    title = "Publication error"


class CalendarTableInvalid(PublicationError):
    """An admin-loaded working-day table (holidays / make-up working days) is malformed."""

    status = 422
    title = "Invalid working-day table"


class DeadlineRuleInvalid(PublicationError):
    """A deadline rule (working days by case type / agency) is malformed."""

    status = 422
    title = "Invalid deadline rule"


class PersonalDataInText(PublicationError):
    """A text meant for the public still contains personal data (an unmasked name, ID or phone number)."""

    status = 422
    title = "Personal data in public text"


class EvaluationInputInvalid(PublicationError):
    """A case-file evaluation input or manual finding is malformed."""

    status = 422
    title = "Invalid evaluation input"


class ReportFiguresInvalid(PublicationError):
    """An annual-report figures file is malformed or does not match what it is checked against."""

    status = 422
    title = "Report figures invalid"


class FeedFormatError(PublicationError):
    """A feed batch or cursor does not follow the documented format."""

    status = 422
    title = "Malformed feed batch"


class FeedRejected(PublicationError):
    """A feed batch failed verification (signature, consistency, gap, duplicate or rewritten history)."""

    status = 422
    title = "Feed batch rejected"


class PublicationNotFound(NotFound):
    """No publication record for that case (one opens when the case enters 决定)."""

    title = "Publication not found"


class PublicationStateError(Conflict):
    """The record's state does not allow this step (e.g. publishing without an approved text)."""

    title = "Publication state does not allow this"


class FeedNotServable(Conflict):
    """The log's current state cannot answer this cursor: no checkpoint yet, or the cursor is ahead of it."""

    title = "Feed cannot serve this cursor yet"


class FeedUnavailable(PublicationError):
    """The feed server could not be reached or did not answer with a batch."""

    status = 503
    title = "Feed unavailable"
