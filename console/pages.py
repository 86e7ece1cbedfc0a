"""Console pages in the role matrix: page route name → roles. Merged with ``liuhen.api.roles.MATRIX`` (the API's
rows) into the one table ``allowed()`` consults; a page missing from both is refused for everyone."""

from __future__ import annotations

from liuhen.console.services import MATRIX

_ALL = frozenset({"clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external"})
_STAFF = frozenset({"clerk", "reviewer", "legal_reviewer", "supervisor"})
_REVIEW = frozenset({"reviewer", "legal_reviewer", "supervisor"})
_DOCK = frozenset({"clerk", "supervisor", "admin"})
_OVERSIGHT = frozenset({"supervisor", "admin"})

PAGES: dict[str, frozenset[str]] = {
    "console.home": _ALL,
    "console.password": _ALL,
    "console.dock": _DOCK,
    "console.dock_state": _DOCK,
    "console.receipt": _DOCK,
    "console.cases": _STAFF,
    "console.case": _STAFF,
    "console.case_stage": frozenset({"clerk", "supervisor"}),
    "console.case_review": frozenset({"legal_reviewer"}),
    "console.multicam": _STAFF,
    "console.search": _STAFF,
    "console.file": _STAFF,
    "console.play": _STAFF,
    "console.purpose": _STAFF,
    "console.proxy": _STAFF,
    "console.thumbnail": _STAFF,
    "console.link": frozenset({"clerk", "reviewer", "supervisor"}),
    "console.requests": _STAFF | {"external"},
    "console.request_create": _STAFF | {"external"},
    "console.download": _REVIEW,
    "console.inbox": frozenset({"supervisor"}),
    "console.decide": frozenset({"supervisor"}),
    "console.bags": frozenset({"external", "supervisor"}),
    "console.oversight": _OVERSIGHT,
    "console.admin": frozenset({"admin"}),
    "console.admin_user": frozenset({"admin"}),
    "console.audit": _ALL,
}
# Pages that record their own access event before the first byte (I5) instead of a read-journal row.
ACCESS_EVENT_PAGES = frozenset({"console.proxy", "console.thumbnail", "console.download"})

TABLE: dict[str, frozenset[str]] = {**PAGES, **MATRIX}


def allowed(name: str, role: str) -> bool:
    return role in TABLE.get(name, frozenset())
