"""The one place the console names lower-layer modules (cases, API helpers, stages)."""

from __future__ import annotations

from liuhen.api.auth import list_tokens
from liuhen.api.roles import CONSOLE_ACCESS_EVENT_PAGES, CONSOLE_PAGES, MATRIX
from liuhen.api.roles import allowed as roles_allowed
from liuhen.api.search import search_files
from liuhen.api.streaming import file_reader, ranged_response
from liuhen.cases import access, completeness, readaudit, scope
from liuhen.cases import service as case_service
from liuhen.cases.errors import ReadAuditUnavailable
from liuhen.cases.principal import Principal
from liuhen.catalog.stages import STAGES
from liuhen.export.service import run_export
from liuhen.integrity import checkpoint as log_checkpoint
from liuhen.integrity import keys as log_keys
from liuhen.integrity import log as audit_log
from liuhen.integrity import proof as log_proof
from liuhen.integrity import verify as log_verify
from liuhen.integrity.errors import IntegrityError
from liuhen.publication import evaluation_service
from liuhen.publication import register as publication_register
from liuhen.publication.dashboard import monthly_coverage

__all__ = [
    "CONSOLE_ACCESS_EVENT_PAGES",
    "CONSOLE_PAGES",
    "MATRIX",
    "STAGES",
    "IntegrityError",
    "Principal",
    "ReadAuditUnavailable",
    "access",
    "audit_log",
    "case_service",
    "completeness",
    "evaluation_service",
    "file_reader",
    "list_tokens",
    "log_checkpoint",
    "log_keys",
    "log_proof",
    "log_verify",
    "monthly_coverage",
    "publication_register",
    "ranged_response",
    "readaudit",
    "roles_allowed",
    "run_export",
    "scope",
    "search_files",
]
