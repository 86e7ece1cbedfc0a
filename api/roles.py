"""THE role matrix: every endpoint (by route name) → the roles allowed to call it. Nothing else grants access.

``api.auth.authorize`` (one dependency on every route but ``/health``) looks the route's name up here;
a route missing from the matrix is refused for everyone (fail closed), and
``tests/api/test_roles.py`` checks every role × every route against this table.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external"]
ROLES: tuple[Role, ...] = ("clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external")

# route names reachable without a token: health, and the public feed of approved, masked publications (公示)
ANONYMOUS = frozenset({"health", "public.publications", "public.publications_html"})

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
    "cases.grant": _r("supervisor"),  # share a joint case with another unit (cases/scope.py)
    "cases.grant_revoke": _r("supervisor"),
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
    # publication (公示): staff see the register; supervisors approve, publish, revoke (liuhen.publication)
    "publications.list": _STAFF | _r("admin"),
    "publications.approve": _r("supervisor"),
    "publications.publish": _r("supervisor"),
    "publications.revoke": _r("supervisor"),
    "calendar.status": _STAFF | _r("admin"),
    "calendar.load": _r("admin"),
    "reports.annual": _OVERSIGHT,
    # the supervision platform's pull feed (a supervisor-role token issued to the platform)
    "feed.batches": _OVERSIGHT,
    # case-file evaluation (案卷评查)
    "evaluation.case": _REVIEW | _r("admin"),
    "evaluation.finding_add": _r("reviewer", "supervisor"),
    "evaluation.rollup": _OVERSIGHT,
    "dashboard.supervision": _OVERSIGHT,
}


_DOCK: frozenset[Role] = _r("clerk", "supervisor", "admin")

# The web console's pages and actions (liuhen.console), by route name. Same roles, same rules as the API rows
# above: ``allowed()`` consults both, and tests/console/test_roles.py checks every role × every page.
CONSOLE_PAGES: dict[str, frozenset[Role]] = {
    "console.home": _ALL,
    "console.password": _ALL,
    "console.dock": _DOCK,
    "console.dock_state": _DOCK,
    "console.receipt": _DOCK,
    "console.cases": _STAFF,
    "console.case": _STAFF,
    "console.case_stage": _r("clerk", "supervisor"),  # = cases.stage
    "console.case_review": _r("legal_reviewer"),  # = cases.legal_review
    "console.multicam": _STAFF,
    "console.multicam_purpose": _STAFF,
    "console.search": _STAFF,  # = files.search
    "console.search_purpose": _STAFF,  # thumbnails in results need a stated purpose
    "console.file": _STAFF,  # = files.get
    "console.play": _STAFF,
    "console.purpose": _STAFF,
    "console.proxy": _STAFF,  # = files.proxy, and a stated purpose
    "console.thumbnail": _STAFF,
    "console.link": _r("clerk", "reviewer", "supervisor"),  # = cases.link
    "console.requests": _STAFF | _r("external"),
    "console.request_create": _STAFF | _r("external"),  # = access.request_create
    "console.download": _REVIEW,  # = files.original, and an approved download request
    "console.inbox": _r("supervisor"),
    "console.decide": _r("supervisor"),  # = access.request_decide
    "console.bags": _r("external", "supervisor"),
    "console.bag_download": _r("external", "supervisor"),  # and an approved export request for the caller
    "console.oversight": _OVERSIGHT,  # = access.log / access.reads
    "console.supervision": _OVERSIGHT,  # = dashboard.supervision
    "console.admin": _r("admin"),
    "console.admin_user": _r("admin"),
    "console.audit": _ALL,
    "console.redactions": _r("reviewer", "supervisor"),
    "console.redact": _r("reviewer", "supervisor"),  # player + drafting; purpose-gated like console.play
    "console.redact_purpose": _r("reviewer", "supervisor"),
    "console.redaction_create": _r("reviewer", "supervisor"),  # = redaction.create
    "console.redaction_preview": _r("reviewer", "supervisor"),  # and a stated purpose for the file
    "console.redaction_approve": _r("supervisor"),  # = redaction.approve (and not the drafter)
}
# Console routes that record their own access event before the first byte (I5) instead of a read-journal row.
CONSOLE_ACCESS_EVENT_PAGES = frozenset({"console.proxy", "console.thumbnail", "console.download",
                                        "console.bag_download", "console.redaction_preview"})


def allowed(route_name: str, role: str) -> bool:
    """THE check for the API and the console: a name missing from both tables is refused for everyone."""
    return role in MATRIX.get(route_name, CONSOLE_PAGES.get(route_name, frozenset()))
