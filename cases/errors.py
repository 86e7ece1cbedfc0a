"""Errors of the case-file domain (cases, stages, access, the read journal). Each names what happened."""

from __future__ import annotations

from liuhen.core.errors import Conflict, Forbidden, InvalidRequest, LiuhenError, NotFound


class CaseError(LiuhenError):
    status = 400
    title = "Bad request"

class PurposeRequired(CaseError):
    """Viewing or streaming footage needs a stated purpose (调阅事由)."""

    status = 428
    title = "Purpose required"


class ApprovalRequired(Forbidden):
    """Downloading originals or exporting needs a supervisor-approved request."""

    title = "Approved request required"


class CaseNotFound(NotFound):
    title = "Case not found"


class FileNotFound(NotFound):
    title = "File not found"


class StageOrderError(Conflict):
    """A stage change out of order (stages only move forward, one at a time)."""

    title = "Stage order violated"


class LegalReviewRequired(Conflict):
    """未经法制审核或审核未通过的，不得作出决定: a major case cannot enter 'decision' without approval."""

    title = "Approved legal review required"


class InvalidActivity(InvalidRequest):
    title = "Invalid activity"


class ReadAuditUnavailable(CaseError):
    """The request could not be written to the read journal, so it is refused (reads are not served unaudited)."""

    status = 503
    title = "Read audit unavailable"
