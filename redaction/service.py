"""Redactions as reviewed objects: draft → rendered preview (verified) → approved by a supervisor → final.

- ``create``: fetch the original (SHA-256 re-checked), build the region list (detected faces, manual
  boxes, kept boxes, audio ranges — or a full region document, e.g. an edited earlier one), record
  ``redaction.draft``, render the preview under ``derived_dir`` and run the verifier on it.
- ``approve``: someone other than the drafter; only a rendered preview that passed verification; the
  previewed bytes (hash re-checked) become a ``derivatives`` row of kind ``redacted`` (seq = redaction id)
  with its ``derivation`` event (I7) and a ``redaction.approve`` event, in one transaction.
- ``final_for_file`` / ``require_final``: what a disclosure export may carry (approved copies only).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from liuhen.cases.errors import FileNotFound
from liuhen.core.codec import sha256_file
from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.redaction.base import FaceDetector
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams
from liuhen.redaction.errors import (
    RedactionApprovalRefused,
    RedactionMediaFailed,
    RedactionNotFound,
    RedactionStateError,
    RegionSpecInvalid,
)
from liuhen.redaction.pipeline import Draft, TimedBox, derivation, draft, draft_and_render, render_draft
from liuhen.redaction.regions import digest, validated
from liuhen.redaction.render import RenderParams, RenderResult
from liuhen.redaction.verifier import verify
from liuhen.runtime import Runtime
from liuhen.transcoder.service import derived_rel_dir, fetch_original

KINDS = {"video": "video", "photo": "photo"}


@dataclass
class Request:
    """What to hide. ``regions`` (a full region document) replaces faces/boxes/keep/mutes when given."""

    faces: bool = False
    boxes: Sequence[TimedBox] = ()
    keep: Sequence[TimedBox] = ()
    mutes: Sequence[tuple[int, int]] = ()
    tone: bool = False
    method: str = "blur"
    regions: dict[str, Any] | None = None
    detect: DetectParams = field(default_factory=DetectParams)
    render: RenderParams = field(default_factory=RenderParams)


def _file(rt: Runtime, sha256: str) -> dict[str, Any]:
    row = rt.catalog.one("SELECT * FROM files WHERE sha256 = %s", (sha256.lower(),))
    if row is None or row["status"] != "stored":
        raise FileNotFound(f"no stored file {sha256.lower()}")
    if row["media_kind"] not in KINDS:
        raise RegionSpecInvalid(f"file {sha256[:16]}… is {row['media_kind']}: only video and photos can be redacted")
    return row


def _row(rt: Runtime, redaction_id: int) -> dict[str, Any]:
    row = rt.catalog.one(
        "SELECT r.*, f.sha256, f.size AS file_size, f.media_kind, f.ext, f.storage_key, f.storage_version "
        "FROM redactions r JOIN files f ON f.id = r.file_id WHERE r.id = %s",
        (redaction_id,),
    )
    if row is None:
        raise RedactionNotFound(f"no redaction {redaction_id}")
    return row


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """The public view of a redaction row (no region list; see ``get``)."""
    regions = row["regions"]
    rep = row.get("verify_report") or {}
    return {
        "id": row["id"], "file_id": row["file_id"], "sha256": row["sha256"], "state": row["state"],
        "regions_sha256": row["regions_sha256"], "regions": len(regions["regions"]),
        "faces": sum(1 for r in regions["regions"] if r["kind"] == "face"), "audio_ranges": regions["audio"],
        "preview_sha256": row["preview_sha256"], "preview_size": row["preview_size"], "mime": row["mime"],
        "job": ((row.get("params") or {}).get("job") or {}).get("status"),
        "verified": rep.get("ok"), "verify_failures": rep.get("failures", [])[:10], "error": row["error"],
        "created_by": row["created_by"], "created_at": row["created_at"],
        "approved_by": row["approved_by"], "approved_at": row["approved_at"], "derivative_id": row["derivative_id"],
    }


def get(rt: Runtime, redaction_id: int) -> dict[str, Any]:
    row = _row(rt, redaction_id)
    return {**summary(row), "region_list": row["regions"], "detection": row["detection"]}


def list_for_file(rt: Runtime, sha256: str) -> list[dict[str, Any]]:
    rows = rt.catalog.all(
        "SELECT r.*, f.sha256 FROM redactions r JOIN files f ON f.id = r.file_id WHERE f.sha256 = %s ORDER BY r.id",
        (sha256.lower(),),
    )
    return [summary(r) for r in rows]


def request_doc(req: Request) -> dict[str, Any]:
    """The request as JSON (kept on the row while the job waits for a worker)."""
    return {"faces": req.faces, "boxes": [[a, b, list(box)] for a, b, box in req.boxes],
            "keep": [[a, b, list(box)] for a, b, box in req.keep], "mutes": [list(m) for m in req.mutes],
            "tone": req.tone, "method": req.method, "regions": req.regions, "detect": req.detect.as_dict(),
            "render": req.render.as_dict()}


def request_of(doc: dict[str, Any]) -> Request:
    def boxes(items: list[Any]) -> list[TimedBox]:
        return [(int(a), int(b), (int(bx[0]), int(bx[1]), int(bx[2]), int(bx[3]))) for a, b, bx in items]

    return Request(faces=doc["faces"], boxes=boxes(doc["boxes"]), keep=boxes(doc["keep"]),
                   mutes=[(int(a), int(b)) for a, b in doc["mutes"]], tone=doc["tone"], method=doc["method"],
                   regions=doc["regions"], detect=DetectParams(**doc["detect"]), render=RenderParams(**doc["render"]))


def _draft_render(src: Path, kind: str, req: Request, detector: FaceDetector | None,
                  dst: Path) -> tuple[Draft, RenderResult]:
    if req.regions is None:
        return draft_and_render(src, dst, kind=kind, detector=detector if req.faces else None,
                                detect=replace(req.detect, method=req.method), boxes=req.boxes, mutes=req.mutes,
                                tone=req.tone, method=req.method, keep=req.keep, render=req.render)
    doc = validated(req.regions)
    d = draft(src, kind=kind)
    if doc["media"] != d.doc["media"]:
        raise RegionSpecInvalid(f"region list is for media {doc['media']}, this file is {d.doc['media']}")
    d = Draft(d.info, doc, None)
    return d, render_draft(src, dst, d, req.render)


PENDING: dict[str, Any] = {"media": None, "regions": [], "audio": [], "pending": True}  # until the job has run


def submit(rt: Runtime, sha256: str, req: Request, actor: str) -> int:
    """Record the request as a redaction in state ``draft`` with job ``queued``; ``run`` does the work."""
    row = _file(rt, sha256)
    if req.regions is not None:
        validated(req.regions)  # refuse a broken list now, not in the worker
    params = {"render": req.render.as_dict(), "job": {"status": "queued", "request": request_doc(req)}}
    new = rt.catalog.one(
        "INSERT INTO redactions (file_id, regions, regions_sha256, params, created_by) VALUES (%s, %s, %s, %s, %s) "
        "RETURNING id", (row["id"], Jsonb(PENDING), digest(PENDING), Jsonb(params), actor))
    assert new is not None
    return int(new["id"])


def _job(rt: Runtime, rid: int, status: str, error: str | None = None) -> None:
    state = ", state = 'failed', error = %(error)s" if status == "failed" else ""
    rt.catalog.one(f"UPDATE redactions SET params = jsonb_set(params, '{{job,status}}', to_jsonb(%(s)s::text)){state} "
                   "WHERE id = %(id)s RETURNING id", {"s": status, "error": error, "id": rid})


def _record_rendered(rt: Runtime, row: dict[str, Any], d: Draft, res: RenderResult, rel: str, rep: Any,
                     recipe: dict[str, Any], actor: str) -> None:
    """The region list, the ``redaction.draft`` event and the rendered preview, in one transaction."""
    doc, rid = d.doc, row["id"]
    with rt.catalog.tx() as conn:
        data = {"redaction_id": rid, "regions_sha256": digest(doc), "regions": len(doc["regions"]),
                "faces": sum(1 for r in doc["regions"] if r["kind"] == "face"), "audio": doc["audio"],
                "detection": {k: v for k, v in (d.detection or {}).items() if k not in ("argv", "seconds")} or None}
        ev = record(conn, Event("redaction.draft", actor, subject={"sha256": row["sha256"], "file_id": row["file_id"]},
                                data=data))
        conn.execute(
            "UPDATE redactions SET state = 'rendered', regions = %s, regions_sha256 = %s, detection = %s, "
            "draft_event_id = %s, preview_path = %s, preview_sha256 = %s, preview_size = %s, mime = %s, "
            "verify_report = %s, params = jsonb_set(params || %s, '{job,status}', '\"done\"') WHERE id = %s",
            (Jsonb(doc), digest(doc), Jsonb(d.detection) if d.detection else None, ev, rel, res.sha256, res.size,
             res.mime, Jsonb(asdict(rep)), Jsonb({"recipe": recipe}), rid))


def run(rt: Runtime, redaction_id: int, detector: FaceDetector | None = None) -> dict[str, Any]:
    """Detect, track, render and verify a submitted redaction (what the worker's actor calls).

    Idempotent: a redaction already rendered (or failed, or final) is returned as it is. ``detector``
    defaults to CenterFace at the request's ``max_side``. Media errors mark it ``failed`` and are raised.
    """
    row = _row(rt, redaction_id)
    job = (row["params"] or {}).get("job")
    if row["state"] != "draft" or job is None or job.get("status") == "done":
        return summary(row)
    req = request_of(job["request"])
    if req.faces and req.regions is None and detector is None:
        detector = CenterFace.for_side(req.detect.max_side)
    _job(rt, redaction_id, "running")
    kind = KINDS[row["media_kind"]]
    rel = f"{derived_rel_dir(row['sha256'])}/redaction-{redaction_id}.{'jpg' if kind == 'photo' else 'mp4'}"
    dst = rt.settings.derived_dir / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(f".{dst.name}.partial{dst.suffix}")
    try:
        with tempfile.TemporaryDirectory(prefix="liuhen-redact-") as tmp:
            name = f"original.{(row.get('ext') or 'bin').lower()}"
            src = fetch_original(rt, {**row, "id": row["file_id"]}, Path(tmp) / name)
            d, res = _draft_render(src, kind, req, detector, part)
            rep = verify(src, part, d.doc)
        os.replace(part, dst)
    except (RedactionMediaFailed, RegionSpecInvalid) as exc:
        part.unlink(missing_ok=True)
        _job(rt, redaction_id, "failed", str(exc))
        raise
    recipe = derivation(row["sha256"], int(row["file_size"]), d, req.render, res)
    _record_rendered(rt, row, d, res, rel, rep, recipe, row["created_by"])
    return summary(_row(rt, redaction_id))


def create(rt: Runtime, sha256: str, req: Request, actor: str, detector: FaceDetector | None = None) -> dict[str, Any]:
    """Submit and run at once (CLI without a worker, tests): the summary, state ``rendered`` or ``failed``."""
    if req.faces and detector is None and req.regions is None:
        raise RegionSpecInvalid("face detection requested but no detector given")
    return run(rt, submit(rt, sha256, req, actor), detector)


def preview_path(rt: Runtime, redaction_id: int) -> tuple[Path, dict[str, Any]]:
    """Absolute path of the rendered copy (preview or final) and its row."""
    row = _row(rt, redaction_id)
    if not row["preview_path"]:
        raise RedactionStateError(f"redaction {redaction_id} has no rendered copy (state {row['state']})")
    return rt.settings.derived_dir / row["preview_path"], row


def _check_approvable(row: dict[str, Any], actor: str) -> None:
    if row["state"] != "rendered":
        raise RedactionStateError(f"redaction {row['id']} is {row['state']}; only a rendered preview can be approved")
    if row["created_by"] == actor:
        raise RedactionApprovalRefused(f"redaction {row['id']} was drafted by {actor}; another person must approve it")
    rep = row["verify_report"] or {}
    if not rep.get("ok"):
        first = (rep.get("failures") or ["not verified"])[0]
        raise RedactionStateError(f"redaction {row['id']} failed verification ({first}); it cannot be approved")


def approve(rt: Runtime, redaction_id: int, actor: str) -> dict[str, Any]:
    """Make the verified preview final: derivative + derivation event + ``redaction.approve``, one transaction."""
    path, row = preview_path(rt, redaction_id)
    _check_approvable(row, actor)
    got = sha256_file(path)
    if got != row["preview_sha256"]:
        raise RedactionStateError(f"preview of redaction {redaction_id} changed on disk: sha256 {got}, "
                                  f"expected {row['preview_sha256']}")
    recipe = row["params"]["recipe"]
    subject = {"sha256": row["sha256"], "file_id": row["file_id"]}
    data = {"derivative": {"kind": "redacted", "seq": redaction_id, "sha256": got, "size": row["preview_size"],
                           "mime": row["mime"], "path": row["preview_path"]},
            **{k: v for k, v in recipe.items() if k != "derivative"}, "redaction_id": redaction_id}
    with rt.catalog.tx() as conn:
        locked = conn.execute("SELECT state FROM redactions WHERE id = %s FOR UPDATE", (redaction_id,)).fetchone()
        if locked is None or locked["state"] != "rendered":
            raise RedactionStateError(f"redaction {redaction_id} was changed meanwhile")
        dev = record(conn, Event("derivation", actor, subject=subject, data=data))
        drow = conn.execute(
            "INSERT INTO derivatives (file_id, kind, seq, sha256, size, path, mime, recipe, event_id) "
            "VALUES (%s, 'redacted', %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (row["file_id"], redaction_id, got, row["preview_size"], row["preview_path"], row["mime"], Jsonb(data),
             dev),
        ).fetchone()
        assert drow is not None
        did = int(drow["id"])
        aev = record(conn, Event("redaction.approve", actor, subject=subject, data={
            "redaction_id": redaction_id, "regions_sha256": row["regions_sha256"], "redacted_sha256": got,
            "derivation_event_id": dev, "drafted_by": row["created_by"]}))
        conn.execute(
            "UPDATE redactions SET state = 'final', approved_by = %s, approved_at = now(), approve_event_id = %s, "
            "derivative_id = %s WHERE id = %s",
            (actor, aev, did, redaction_id),
        )
    return summary(_row(rt, redaction_id))
