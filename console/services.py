"""The one place the console names lower-layer modules (cases, API helpers, stages)."""

from __future__ import annotations

from liuhen.api.auth import list_tokens
from liuhen.api.roles import CONSOLE_ACCESS_EVENT_PAGES, CONSOLE_PAGES, MATRIX
from liuhen.api.roles import allowed as roles_allowed
from liuhen.api.search import search_files
from liuhen.api.streaming import file_reader, ranged_response
from liuhen.cases import access, completeness, readaudit
from liuhen.cases import service as case_service
from liuhen.cases.errors import ReadAuditUnavailable
from liuhen.cases.principal import Principal
from liuhen.catalog.stages import STAGES
from liuhen.export.service import run_export

__all__ = [
    "CONSOLE_ACCESS_EVENT_PAGES",
    "CONSOLE_PAGES",
    "MATRIX",
    "STAGES",
    "Principal",
    "ReadAuditUnavailable",
    "access",
    "case_service",
    "completeness",
    "file_reader",
    "list_tokens",
    "ranged_response",
    "readaudit",
    "roles_allowed",
    "run_export",
    "search_files",
]
