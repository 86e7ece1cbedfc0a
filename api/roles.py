"""THE role matrix: every endpoint (by route name) → the roles allowed to call it. Nothing else grants access.

``api.auth.authorize`` (one dependency on every route but ``/health``) looks the route's name up here;
a route missing from the matrix is refused for everyone (fail closed), and
``tests/api/test_roles.py`` checks every role × every route against this table.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external"]
ROLES: tuple[Role, ...] = ("clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external")

ANONYMOUS = frozenset({"health"})  # route names reachable without a token

# Routes that record their own access event (access.view/stream/download/export, I5) before the first
# byte; every other authorised request gets a read_journal row from ``authorize`` (api/readaudit.py).
ACCESS_EVENT_ROUTES = frozenset(
    {"files.proxy", "files.original", "files.thumbnail", "files.preview", "cases.export", "redaction.copy"}
)

_ALL: frozenset[Role] = frozenset(ROLES)
_STAFF: frozenset[Role] = frozenset({"clerk", "reviewer", "legal_reviewer", "supervisor"})
_REVIEW: frozenset[Role] = frozenset({"reviewer", "legal_reviewer", "supervisor"})
_OVERSIGHT: frozenset[Role] = frozenset({"supervisor", "admin"})


def _r(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


MATRIX: dict[str, frozenset[Role]] = {
    # self-description
    "openapi": _ALL,
    "whoami": _ALL,
    # cases and stages (clerk-facing); legal review only by legal reviewers
    "cases.list": _STAFF,
    "cases.create": _r("clerk", "supervisor"),
    "cases.get": _STAFF,
    "cases.stage": _r("clerk", "supervisor"),
    "cases.legal_review": _r("legal_reviewer"),
    "cases.activity": _r("clerk", "supervisor"),
    "cases.link": _r("clerk", "reviewer", "supervisor"),
    "cases.unlink": _r("clerk", "supervisor"),
    "cases.completeness": _STAFF,
    "cases.completeness_html": _STAFF,
    "cases.export": _STAFF,  # and an approved export request
    "recording_list.get": _STAFF | _r("admin"),
    "recording_list.put": _r("admin"),
    # footage: search, metadata, playback
    "files.search": _STAFF,
    "files.get": _STAFF,
    "files.proxy": _STAFF,  # and a stated purpose
    "files.original": _REVIEW,  # and an approved download request
    "files.thumbnails": _STAFF,
    "files.thumbnail": _STAFF,
    "files.preview": _STAFF,
    "files.match": _REVIEW,
    # supervised retrieval (调阅监督)
    "access.request_create": _STAFF | _r("external"),
    "access.request_list": _ALL,  # non-supervisors see only their own
    "access.request_get": _ALL,  # non-supervisors see only their own
    "access.request_decide": _r("supervisor"),
    "access.log": _OVERSIGHT,
    "access.unusual": _OVERSIGHT,
    "access.reads": _OVERSIGHT,  # the read journal (api/readaudit.py)
    # legal hold: only a supervisor releases one (unlinking never does)
    "holds.release": _r("supervisor"),
    # ingest receipts
    "ingest.sessions": _r("clerk", "supervisor", "admin"),
    "ingest.session": _r("clerk", "supervisor", "admin"),
    # redaction (liuhen.redaction): staff draft and watch previews; only a supervisor approves (not the drafter)
    "redaction.create": _r("clerk", "reviewer", "supervisor"),
    "redaction.list": _STAFF,
    "redaction.get": _STAFF,
    "redaction.copy": _STAFF,  # and a stated purpose
    "redaction.approve": _r("supervisor"),
    # the audit log
    "audit.checkpoint": _ALL,
    "audit.consistency": _ALL,
    "audit.leaf": _REVIEW | _r("admin"),
    "audit.inclusion": _REVIEW | _r("admin"),
}


def allowed(route_name: str, role: str) -> bool:
    return role in MATRIX.get(route_name, frozenset())
