"""Supervised retrieval (调阅监督): one import for the access records, requests and oversight queries.

- ``cases.accessevents``: every view, stream start, download, request, approval and export writes an
  audit-log event and an ``access_events`` row in one transaction that commits before the first byte
  is served (I5); CLI origin (``via: "cli"``, ``os_user``) is stamped on every event by ``integrity.log.record``.
- ``cases.requests``: access requests and their approval; ``require_approved`` guards downloads/exports.
- ``cases.oversight``: the access log and unusual-access flags, scoped to the caller's units.
"""

from __future__ import annotations

from liuhen.cases.accessevents import (
    BULK_DOWNLOADS_PER_HOUR,
    BULK_FILES_PER_HOUR,
    CORRUPT_FLAG,
    EVENT_TYPE,
    SESSION_KINDS,
    SESSION_WINDOW,
    check_purpose,
    ensure_access_recorded,
    record_access,
    record_corrupt_original,
    record_event,
)
from liuhen.cases.oversight import access_log, unusual
from liuhen.cases.requests import (
    BLIND_ROLES,
    OVERSEERS,
    approve,
    create_request,
    decide,
    get_request,
    get_visible_request,
    list_requests,
    request,
    require_approved,
)

__all__ = [
    "BLIND_ROLES",
    "BULK_DOWNLOADS_PER_HOUR",
    "BULK_FILES_PER_HOUR",
    "CORRUPT_FLAG",
    "EVENT_TYPE",
    "OVERSEERS",
    "SESSION_KINDS",
    "SESSION_WINDOW",
    "access_log",
    "approve",
    "check_purpose",
    "create_request",
    "decide",
    "ensure_access_recorded",
    "get_request",
    "get_visible_request",
    "list_requests",
    "record_access",
    "record_corrupt_original",
    "record_event",
    "request",
    "require_approved",
    "unusual",
]
