"""Supervised retrieval (requests, approvals, access log, unusual access), ingest receipts, the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from liuhen.api.auth import authorize
from liuhen.api.models import (
    AccessEventOut,
    AccessRequestIn,
    AccessRequestOut,
    CheckpointOut,
    ConsistencyOut,
    DecisionIn,
    InclusionOut,
    IngestSessionOut,
    LeafOut,
    Moment,
    NonBlank2,
    UnusualOut,
    WhoAmI,
)
from liuhen.api.routes import problems, runtime_of
from liuhen.cases import access, readaudit, requests, scope
from liuhen.cases import service as cases
from liuhen.cases.principal import Principal
from liuhen.core.codec import b64
from liuhen.core.errors import Forbidden, InvalidRequest, NotFound
from liuhen.integrity import checkpoint as integrity_checkpoint
from liuhen.integrity import log as integrity_log
from liuhen.integrity import proof as integrity_proof
from liuhen.integrity import tlogproof as integrity_tlogproof

router = APIRouter()
Who = Annotated[Principal, Depends(authorize)]
BigId = Annotated[int, Path(ge=1, le=2**53)]
Idx = Annotated[int, Query(ge=0, le=2**53)]
Digest = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the original")]


@router.get("/whoami", name="whoami", response_model=WhoAmI, tags=["auth"], responses=problems())
def whoami(who: Who) -> dict[str, Any]:
    return {"name": who.name, "role": who.role, "unit_code": who.unit_code}


@router.post(
    "/access/requests",
    name="access.request_create",
    status_code=201,
    response_model=AccessRequestOut,
    tags=["access"],
    responses=problems(404),
)
def create_request(request: Request, who: Who, body: AccessRequestIn) -> dict[str, Any]:
    """Ask a supervisor for approval to download originals (of a case, or listed digests) or export a case."""
    for s in body.files:
        if len(s) != 64 or any(c not in "0123456789abcdefABCDEF" for c in s):
            raise InvalidRequest(f"not a SHA-256 digest: {s[:80]!r}")
    return access.create_request(
        runtime_of(request), who, kind=body.kind, purpose=body.purpose, case_no=body.case_no, files=body.files
    )


@router.get(
    "/access/requests",
    name="access.request_list",
    response_model=list[AccessRequestOut],
    tags=["access"],
    responses=problems(),
)
def list_requests(
    request: Request,
    who: Who,
    status: Annotated[str | None, Query(pattern=r"^(pending|approved|rejected)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Supervisors and admins see their own requests and those naming only objects of their units (a
    supervisor's sub-units included); others only their own."""
    return requests.list_requests(runtime_of(request), who, status=status, limit=limit)


@router.get(
    "/access/requests/{request_id}",
    name="access.request_get",
    response_model=AccessRequestOut,
    tags=["access"],
    responses=problems(404),
)
def get_request(request: Request, who: Who, request_id: BigId) -> dict[str, Any]:
    return requests.get_visible_request(runtime_of(request), who, request_id)


@router.post(
    "/access/requests/{request_id}/decision",
    name="access.request_decide",
    response_model=AccessRequestOut,
    tags=["access"],
    responses=problems(404, 409),
)
def decide(request: Request, who: Who, request_id: BigId, body: DecisionIn) -> dict[str, Any]:
    """Approve or reject (a supervisor, not the requester); logged as ``access.approval``."""
    return access.decide(
        runtime_of(request), request_id, who, approve=body.approve, note=body.note, valid_hours=body.valid_hours
    )


class HoldReleaseIn(BaseModel):
    reason: NonBlank2 = Field(min_length=2, max_length=500, description="Why the hold is released")


class HoldReleaseOut(BaseModel):
    sha256: str
    released: bool = Field(description="False if the original was not under legal hold")
    released_by: str
    reason: str


@router.post(
    "/holds/{sha256}/release",
    name="holds.release",
    response_model=HoldReleaseOut,
    tags=["access"],
    responses=problems(404, 409),
)
def release_hold(request: Request, who: Who, sha256: Digest, body: HoldReleaseIn) -> dict[str, Any]:
    """Release an original's legal hold (supervisors; logged as ``hold.release``). Unlinking never does.

    409 while the original is linked to a case, and always once any case that ever linked it reached
    'decision' or later (evidence is kept permanently). Retention still applies afterwards.
    """
    return cases.release_hold(runtime_of(request), sha256.lower(), who, body.reason)


@router.get(
    "/access/log", name="access.log", response_model=list[AccessEventOut], tags=["access"], responses=problems()
)
def access_log(
    request: Request,
    who: Who,
    case_no: Annotated[str | None, Query(max_length=500, pattern=r"^[^\x00]*$")] = None,
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$")] = None,
    user: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Who accessed what, when and why — per case (and its linked clips), per clip, per user. Only rows whose
    object or user is of the caller's units (a supervisor's sub-units included)."""
    return access.access_log(
        runtime_of(request), case_no=case_no, sha256=sha256, user=user, since=since, until=until, limit=limit,
        visible=scope.access_row_sql(who),
    )


@router.get(
    "/access/unusual", name="access.unusual", response_model=list[UnusualOut], tags=["access"], responses=problems()
)
def unusual(
    request: Request,
    who: Who,
    since: Moment | None = None,
    bulk_downloads: Annotated[int, Query(ge=1, le=100000)] = access.BULK_DOWNLOADS_PER_HOUR,
    bulk_files: Annotated[int, Query(ge=1, le=100000)] = access.BULK_FILES_PER_HOUR,
) -> list[dict[str, Any]]:
    """Flagged access: bulk downloads/retrieval within an hour, access outside the user's unit (counted over the
    access records of the caller's units, as ``/access/log``)."""
    return access.unusual(runtime_of(request), since=since, bulk_downloads=bulk_downloads, bulk_files=bulk_files,
                          visible=scope.access_row_sql(who))


class ReadJournalOut(BaseModel):
    id: int
    at: datetime
    user_name: str
    role: str
    token_id: int | None
    route: str = Field(description="Route name (the key in the role matrix)")
    method: str
    path: str = Field(description="Raw request path (percent-encoded as sent; at most 2048 characters)")
    query: str | None = Field(description="Raw query string, at most 2048 characters")
    status: int | None = Field(description="Not known when the row is written (before the route runs): null")
    client_ip: str | None
    sealed_event: int | None = Field(description="Event id of the access.read_batch that sealed this row")


@router.get(
    "/access/reads",
    name="access.reads",
    response_model=list[ReadJournalOut],
    tags=["access"],
    responses=problems(),
)
def reads(
    request: Request,
    who: Who,
    user: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    route: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**53, description="keyset: rows with id below")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """The read journal, newest first: every authorised request that is not an access event (who, route, when).
    Only reads by users of the caller's units (a supervisor's sub-units included; agency-wide users' reads too)."""
    return readaudit.query(
        runtime_of(request).catalog, user=user, route=route, since=since, until=until, before_id=before_id, limit=limit,
        visible=scope.read_row_sql(who),
    )


@router.get(
    "/ingest/sessions",
    name="ingest.sessions",
    response_model=list[IngestSessionOut],
    tags=["ingest"],
    responses=problems(),
)
def sessions(
    request: Request,
    who: Who,
    device: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(running|complete|incomplete|failed)$")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Recorder offload sessions of the caller's units (the recorder's unit; a supervisor's sub-units included),
    newest first (receipts omitted; fetch one session for its receipt)."""
    visible, params = _session_sql(who)
    where = [visible]
    for cond, val in (("s.device_serial = %s", device), ("s.status = %s", status), ("s.id < %s", before_id)):
        if val is not None:
            where.append(cond)
            params.append(val)
    sql = "SELECT s.*, NULL::jsonb AS receipt FROM ingest_sessions s WHERE " + " AND ".join(where)
    rows = runtime_of(request).catalog.all(sql + " ORDER BY s.id DESC LIMIT %s", (*params, limit))
    return [{k: v for k, v in r.items() if k != "receipt"} for r in rows]


@router.get(
    "/ingest/sessions/{session_id}",
    name="ingest.session",
    response_model=IngestSessionOut,
    tags=["ingest"],
    responses=problems(404),
)
def session(request: Request, who: Who, session_id: BigId) -> dict[str, Any]:
    """One offload session with its receipt (which files were stored and verified; safe to wipe?)."""
    visible, params = _session_sql(who)
    row = runtime_of(request).catalog.one(
        f"SELECT s.* FROM ingest_sessions s WHERE s.id = %s AND {visible}", (session_id, *params)
    )
    if row is None:
        raise NotFound(f"no ingest session {session_id}")
    return row


def _session_sql(who: Principal) -> tuple[str, list[Any]]:
    """A session is of its recorder's unit (sessions of recorders without a unit are unscoped)."""
    cond, params = scope.unit_sql(who, "sr.unit_code")
    return (f"(s.recorder_id IS NULL OR EXISTS (SELECT 1 FROM recorders sr WHERE sr.id = s.recorder_id AND {cond}))",
            list(params))



@router.get(
    "/audit/checkpoint",
    name="audit.checkpoint",
    response_model=CheckpointOut,
    tags=["audit"],
    responses=problems(404, 503),
)
def audit_checkpoint(
    request: Request, who: Who, size: Annotated[int | None, Query(ge=1, le=2**53)] = None
) -> dict[str, Any]:
    """The latest signed checkpoint (C2SP signed note), or the one published at ``size``."""
    cp_mod = integrity_checkpoint
    cat = runtime_of(request).catalog
    cp = cp_mod.latest(cat) if size is None else cp_mod.at_size(cat, size)
    if cp is None:
        raise NotFound("no checkpoint published" + (f" at size {size}" if size else ""))
    return {"size": cp.size, "root_b64": cp.root_b64, "note": cp.note, "origin": cp.origin}


@router.get(
    "/audit/leaves/{index}", name="audit.leaf", response_model=LeafOut, tags=["audit"], responses=problems(404, 503)
)
def audit_leaf(request: Request, who: Who, index: Annotated[int, Path(ge=0, le=2**53)]) -> dict[str, Any]:
    log = integrity_log
    try:
        lf = log.leaf(runtime_of(request).catalog, index)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    return {"index": lf.idx, "event_id": lf.event_id, "leaf_hash_b64": b64(lf.leaf_hash), "body": json.loads(lf.body)}


@router.get(
    "/audit/inclusion",
    name="audit.inclusion",
    response_model=InclusionOut,
    tags=["audit"],
    responses=problems(404, 503),
)
def audit_inclusion(
    request: Request, who: Who, index: Idx, size: Annotated[int | None, Query(ge=1, le=2**53)] = None
) -> dict[str, Any]:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` (default: the latest checkpoint), as a
    C2SP tlog-proof when that checkpoint is published."""
    cat = runtime_of(request).catalog
    cp_mod, proof, tlog = integrity_checkpoint, integrity_proof, integrity_tlogproof
    cp = cp_mod.latest(cat) if size is None else cp_mod.at_size(cat, size)
    tree_size = size if size is not None else (cp.size if cp else None)
    if tree_size is None:
        raise NotFound("no checkpoint published; pass size")
    if index >= tree_size:
        raise NotFound(f"leaf {index} is not in a tree of size {tree_size}")
    try:
        leaf_hash, hashes, _root = proof.inclusion_with_root(cat, index, tree_size)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc
    text = tlog.for_event(cat, index, cp) if cp is not None and cp.size == tree_size else None
    return {
        "index": index,
        "tree_size": tree_size,
        "leaf_hash_b64": b64(leaf_hash),
        "hashes_b64": [b64(h) for h in hashes],
        "tlog_proof": text,
    }


@router.get(
    "/audit/consistency",
    name="audit.consistency",
    response_model=ConsistencyOut,
    tags=["audit"],
    responses=problems(404, 503),
)
def audit_consistency(
    request: Request, who: Who, old: Annotated[int, Query(ge=1, le=2**53)], new: Annotated[int, Query(ge=1, le=2**53)]
) -> dict[str, Any]:
    """Consistency proof between tree sizes ``old`` ≤ ``new`` (RFC 9162 §2.1.4); 404 if there is none
    (``old`` > ``new``, or a size beyond the log)."""
    if old > new:  # no such proof: a tree is consistent with its earlier sizes, not with later ones
        raise NotFound(f"no consistency proof from size {old} to the smaller size {new}; old must be <= new")
    proof = integrity_proof
    try:
        hashes = proof.consistency_proof(runtime_of(request).catalog, old, new)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc
    return {"old_size": old, "new_size": new, "hashes_b64": [b64(h) for h in hashes]}


__all__ = ["Forbidden", "router"]
