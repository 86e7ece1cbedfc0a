"""The one place the console names lower-layer modules (so the package reorganisation touches one file).

Phase A: today's top-level names. After the reorganisation these become ``liuhen.api.*``,
``liuhen.cases.*`` (service, access, completeness, readaudit) and ``liuhen.integrity.*``.
"""

from __future__ import annotations

from api import access, completeness, readaudit
from api import cases as case_service
from api.auth import Principal, list_tokens
from api.roles import MATRIX
from api.search import search_files
from api.streaming import file_reader, ranged_response
from catalog.stages import STAGES

__all__ = [
    "MATRIX",
    "STAGES",
    "Principal",
    "access",
    "case_service",
    "completeness",
    "file_reader",
    "list_tokens",
    "ranged_response",
    "readaudit",
    "search_files",
]
