"""The one root exception. Each package's ``errors.py`` subclasses it with names that say what happened."""

from __future__ import annotations


class LiuhenError(Exception):
    """Root of every error Liuhen raises on purpose.

    ``status`` is the HTTP status the API maps the error to (RFC 9457 problem+json);
    the CLI prints ``str(error)`` on one line and exits non-zero.
    """

    status: int = 500
    title: str = "Liuhen error"


class ConfigError(LiuhenError):
    status = 500
    title = "Configuration error"


class EmbeddedServiceError(LiuhenError):
    status = 503
    title = "Embedded service failed"


class NotFound(LiuhenError):
    status = 404
    title = "Not found"


class Conflict(LiuhenError):
    status = 409
    title = "Conflict"


class InvalidRequest(LiuhenError):
    status = 422
    title = "Invalid request"


class Forbidden(LiuhenError):
    status = 403
    title = "Forbidden"
