"""Every exception of the export stage (``liuhen export`` / ``POST …/export``).

An unknown case is ``liuhen.cases.errors.CaseNotFound`` (one name project-wide); bytes from the store
that do not match the catalog are ``liuhen.integrity.errors.VerificationError``.
"""

from __future__ import annotations

from liuhen.core.errors import LiuhenError


class ExportError(LiuhenError):
    """The export cannot be made as asked (the message says why); nothing was handed over."""

    status = 409
    title = "Export failed"


class ExportTargetNotEmpty(ExportError):
    title = "Export target is not empty"


class NothingToExport(ExportError):
    title = "Nothing to export"


class ExportSelectionInvalid(ExportError):
    """Bad arguments: an unknown stage, a time that is not ISO 8601, ``to`` before ``from``, no actor."""

    status = 422
    title = "Invalid export selection"


class OriginalNotLogged(ExportError):
    """An original has no ingestion event in the audit log: the bag could never verify."""

    title = "Original without ingestion event"


class UnsafeBagText(ExportError):
    """A text field that would reach the bag holds a control character or line break
    (``liuhen.core.text``): refused rather than flattened, so the bag verifies and no tag line can
    be injected."""

    status = 422
    title = "Control character in a bag field"
