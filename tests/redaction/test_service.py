"""Redaction as a reviewed object on a real catalog: draft → verified preview → approval by another → final."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import pytest
from skimage import data

from liuhen.redaction import disclosure, service
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DetectParams
from liuhen.redaction.errors import (
    RedactionApprovalRefused,
    RedactionNotApproved,
    RedactionStateError,
    RegionSpecInvalid,
)
from liuhen.redaction.regions import digest
from liuhen.redaction.verifier import verify
from tests.transcoder.conftest import add_original

CLERK, SUPERVISOR = "user:clerk1", "user:sup1"


def events(rt, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = rt.catalog.all("SELECT body FROM log_events WHERE type = %s ORDER BY id", (kind,))
    return [json.loads(bytes(r["body"])) for r in rows]


@pytest.mark.slow
def test_faces_draft_approve_final_and_export_contract(runtime, clip, centerface: CenterFace) -> None:  # type: ignore[no-untyped-def]
    src, _truth = clip
    add_original(runtime, src)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    req = service.Request(faces=True, mutes=[(500, 1200)], detect=DetectParams(stride=3))
    out = service.create(runtime, sha, req, CLERK, detector=centerface)
    assert out["state"] == "rendered" and out["verified"] is True and out["faces"] >= 3, out
    [draft_ev] = events(runtime, "redaction.draft")
    assert draft_ev["actor"] == CLERK and draft_ev["subject"]["sha256"] == sha
    assert draft_ev["data"]["regions_sha256"] == out["regions_sha256"]
    assert draft_ev["data"]["detection"]["model_sha256"] == CenterFace.model_sha256

    # approval is required before anything may leave, and the drafter cannot approve
    with pytest.raises(RedactionNotApproved, match="only approved"):
        disclosure.require_final(runtime, out["id"])
    assert disclosure.final_for_file(runtime, sha) == []
    with pytest.raises(RedactionApprovalRefused, match="another person"):
        service.approve(runtime, out["id"], CLERK)

    final = service.approve(runtime, out["id"], SUPERVISOR)
    assert final["state"] == "final" and final["approved_by"] == SUPERVISOR
    with pytest.raises(RedactionStateError, match="final"):
        service.approve(runtime, out["id"], SUPERVISOR)

    [rec] = disclosure.final_for_file(runtime, sha)
    assert rec == disclosure.require_final(runtime, out["id"])
    assert hashlib.sha256(rec.path.read_bytes()).hexdigest() == rec.redacted_sha256 == out["preview_sha256"]
    assert rec.derivative_id == final["derivative_id"]
    d = runtime.catalog.one("SELECT kind, seq, sha256, event_id FROM derivatives WHERE id = %s", (rec.derivative_id,))
    assert d["kind"] == "redacted" and d["seq"] == out["id"] and d["sha256"] == rec.redacted_sha256
    [dev] = events(runtime, "derivation")
    assert dev["data"]["regions_sha256"] == digest(rec.regions) == rec.regions_sha256
    assert dev["data"]["regions"] == rec.regions and dev["data"]["input"]["sha256"] == sha
    assert dev["data"]["detection"]["model_sha256"] == CenterFace.model_sha256
    [aev] = events(runtime, "redaction.approve")
    assert aev["actor"] == SUPERVISOR and aev["data"]["drafted_by"] == CLERK
    files = rec.files()
    regions_bytes = files[f"redactions/{out['id']}/regions.json"]
    assert isinstance(regions_bytes, bytes) and hashlib.sha256(regions_bytes).hexdigest() == rec.regions_sha256
    assert verify(src, rec.path, json.loads(regions_bytes)).ok


def test_manual_box_on_a_photo_and_a_tampered_preview_is_not_approved(runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), data.astronaut()[:, :, ::-1])
    add_original(runtime, photo, "photo")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    out = service.create(runtime, sha, service.Request(boxes=[(0, 1, (180, 50, 100, 130))], method="fill"), CLERK)
    assert out["state"] == "rendered" and out["mime"] == "image/jpeg" and out["verified"]
    path, _ = service.preview_path(runtime, out["id"])
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(RedactionStateError, match="changed on disk"):
        service.approve(runtime, out["id"], SUPERVISOR)


def test_a_region_list_for_other_media_is_refused(runtime, clip) -> None:  # type: ignore[no-untyped-def]
    src, _ = clip
    add_original(runtime, src)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    doc = {"format": "liuhen-redaction-regions", "version": 1, "regions": [], "audio": [],
           "media": {"kind": "video", "width": 1920, "height": 1080, "fps": [30, 1], "frames": 60}}
    with pytest.raises(RegionSpecInvalid, match="1920"):
        service.create(runtime, sha, service.Request(regions=doc), CLERK)
