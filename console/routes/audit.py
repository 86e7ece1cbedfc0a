"""The audit page: the latest signed checkpoint (its signature checked against the trusted keys) and, for the
roles the one table lets read leaves (``audit.inclusion``), the recent events and the inclusion proof of any of
them — verified by the server against the checkpoint, and again by the page itself in the browser (audit.js
recomputes leaf hash and root with WebCrypto from the bytes the page shows)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from liuhen.console import labels, pages
from liuhen.console.services import IntegrityError, audit_log, log_checkpoint, log_keys, log_proof, log_verify
from liuhen.console.web import Ctx, gate
from liuhen.core.codec import b64

router = APIRouter()
RECENT = 50


def signature_state(ctx: Ctx, cp: Any) -> str | None:
    """None when the checkpoint's signature verifies with a trusted key, else the reason."""
    rt = ctx.runtime
    try:
        keys = log_keys.verifier_keys(rt.catalog, rt.settings)
        if not keys:
            return ctx._(labels.MSG_NO_TRUSTED_KEY)
        log_checkpoint.verify_note(cp.note, keys, origin=cp.origin)
    except IntegrityError as exc:
        return str(exc)
    return None


def inclusion(ctx: Ctx, cp: Any, index: int) -> dict[str, Any]:
    """Leaf ``index`` (its exact bytes, pretty-printed event), the proof to ``cp``, and the server's verdict."""
    cat = ctx.runtime.catalog
    lf = audit_log.leaf(cat, index)
    leaf_hash, hashes, _root = log_proof.inclusion_with_root(cat, index, cp.size)
    try:
        log_verify.verify_inclusion(leaf_hash, index, cp.size, hashes, cp.root)
        problem = None
    except IntegrityError as exc:
        problem = str(exc)
    event = json.loads(lf.body)
    return {
        "index": index, "event": json.dumps(event, ensure_ascii=False, indent=2), "type": event.get("type"),
        "leaf_hash": b64(leaf_hash), "hashes": [b64(h) for h in hashes], "verified": problem is None,
        "problem": problem,
        "data": {"index": index, "size": cp.size, "leaf": b64(lf.body), "leaf_hash": b64(leaf_hash),
                 "hashes": [b64(h) for h in hashes]},
    }


def _index(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and len(raw) < 19 else None


@router.get("/audit", name="console.audit")
def audit(request: Request, index: str | None = None) -> Response:
    ctx = gate(request, "console.audit")
    assert ctx.me is not None
    cat = ctx.runtime.catalog
    cp = log_checkpoint.latest(cat)
    can_prove = pages.allowed("audit.inclusion", ctx.me.role)
    i = _index(index)
    proof, note = None, None
    if can_prove and cp is not None and i is not None:
        if i >= cp.size:
            note = ctx._(labels.MSG_NOT_YET_CHECKPOINTED, index=i, size=cp.size)
        else:
            proof = inclusion(ctx, cp, i)
    elif index is not None and can_prove and i is None:
        note = ctx._(labels.MSG_BAD_INDEX)
    recent = cat.all("SELECT idx, type, actor, case_no, subject_sha256, created_at FROM log_events "
                     "WHERE idx IS NOT NULL ORDER BY idx DESC LIMIT %s", (RECENT,)) if can_prove else []
    return ctx.render(
        "audit.html", cp=cp, signature_problem=signature_state(ctx, cp) if cp else None, can_prove=can_prove,
        proof=proof, index=i, recent=recent, proof_words={k: ctx._(v) for k, v in labels.PROOF_WORDS.items()},
        flash=note, flash_kind="warning", active="/audit",
    )
