# ruff: noqa: F811  (pytest fixtures imported from tests.api.conftest are parameters below)
"""Disclosure export (issue 13): approved redacted copies, never originals, over HTTP and the CLI.

One real case (real PostgreSQL, the local store, ffmpeg-made footage with its ingestion event, a link)
gets two redactions through the API: one approved by a supervisor, one only rendered. The disclosure
bag must carry the approved copy with its region list, derivation record and the proofs of its three
events — and neither the original nor the unapproved copy; asking for the unapproved one is refused.
The Library of Congress ``bagit`` package and the shipped stdlib ``verify.py`` validate the bag; the
shipped ``verify_redaction.py`` passes against the original (given separately) and fails on a copy
that is not the redaction of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import bagit
import pytest

from liuhen.core.media import ffmpeg_exe
from liuhen.export.errors import NothingToExport
from liuhen.redaction.disclosure import final_for_file
from liuhen.redaction.errors import RedactionNotApproved
from tests.api.conftest import app, bearer, client, tokens  # noqa: F401  (fixtures)
from tests.api.helpers import store_file
from tests.redaction.conftest import run_redaction_jobs
from tests.storage.test_cli import _run as run_cli

pytestmark = pytest.mark.timeout(300)
CASE = "罚〔2026〕13号"


def _ingestion_event(runtime: Any, f: dict[str, Any]) -> None:
    from liuhen.integrity.events import Event
    from liuhen.integrity.log import append

    data = {k: f[k] for k in ("size", "officer_no", "device_serial", "unit_code")}
    data["recorded_at"] = f["recorded_at"].isoformat()
    append(runtime.catalog, Event("ingestion", "ingest", subject={"sha256": f["sha256"]}, data=data))


def _setup(runtime: Any, client: Any, tokens: dict[str, str], media: dict[str, Path]) -> dict[str, Any]:
    clerk, sup = bearer(tokens["clerk"]), bearer(tokens["supervisor"])
    f = store_file(runtime, media["h264_mp4"])
    _ingestion_event(runtime, f)
    assert client.post("/cases", headers=clerk, json={"case_no": CASE, "agency": "区执法局", "subject": "某店",
                                                        "case_type": "penalty"}).status_code == 201
    r = client.post(f"/cases/{CASE}/links", headers=clerk, json={"file": f["sha256"], "stage": "filing"})
    assert r.status_code == 201, r.text
    box = {"boxes": [{"t0_ms": 0, "t1_ms": 2000, "x": 40, "y": 30, "w": 120, "h": 90}], "method": "fill",
           "mutes": [{"t0_ms": 500, "t1_ms": 1500}]}
    approved = client.post(f"/files/{f['sha256']}/redactions", json=box, headers=clerk)
    pending = client.post(f"/files/{f['sha256']}/redactions", json={**box, "method": "pixelate"}, headers=clerk)
    assert approved.status_code == pending.status_code == 202, approved.text + pending.text
    run_redaction_jobs(runtime)
    ok = client.post(f"/redactions/{approved.json()['id']}/approve", headers=sup)
    assert ok.status_code == 200, ok.text
    rid = client.post("/access/requests", headers=clerk,
                      json={"kind": "export", "case_no": CASE, "purpose": "向当事人披露"}).json()["id"]
    assert client.post(f"/access/requests/{rid}/decision", headers=sup, json={"approve": True}).status_code == 200
    return {"file": f, "approved": approved.json()["id"], "pending": pending.json()["id"], "request": rid}


def _py(script: str, *args: str, cwd: Path, exe: str = "/usr/bin/python3") -> subprocess.CompletedProcess[str]:
    py = exe if Path(exe).exists() else sys.executable
    return subprocess.run([py, script, *args], cwd=cwd, capture_output=True, text=True, timeout=240,
                          env={"PATH": os.environ.get("PATH", "/usr/bin"), "LC_ALL": "C.UTF-8"})


def test_disclosure_bag_over_http(runtime, client, tokens, media, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = _setup(runtime, client, tokens, media)
    clerk = bearer(tokens["clerk"])
    url = f"/cases/{CASE}/exports"
    # an unapproved redaction is refused by name, and nothing is written
    r = client.post(url, headers=clerk, json={"request_id": s["request"], "disclosure": True,
                                              "redactions": [s["pending"]]})
    assert r.status_code == 409 and "only approved" in r.text, r.text
    r = client.post(url, headers=clerk, json={"request_id": s["request"], "disclosure": True, "stage": "filing"})
    assert r.status_code == 422
    r = client.post(url, headers=clerk, json={"request_id": s["request"], "disclosure": True})
    assert r.status_code == 201, r.text
    bag = Path(r.json()["path"])
    res = r.json()["result"]
    assert res["originals"] == 0 and res["derived"] == 1 and res["events"] == 3

    # what is in it: the approved copy + its region list + derivation record; no original, no pending copy
    payload = sorted(str(p.relative_to(bag)) for p in (bag / "data").rglob("*") if p.is_file())
    aid = s["approved"]
    assert payload == [f"data/redactions/{aid}/derivation.json", f"data/redactions/{aid}/redacted.mp4",
                       f"data/redactions/{aid}/regions.json"]
    sha_of = {p: hashlib.sha256((bag / p).read_bytes()).hexdigest() for p in payload}
    assert s["file"]["sha256"] not in sha_of.values()
    [rec] = final_for_file(runtime, s["file"]["sha256"])
    assert sha_of[f"data/redactions/{aid}/redacted.mp4"] == rec.redacted_sha256
    assert sha_of[f"data/redactions/{aid}/regions.json"] == rec.regions_sha256
    leaves = [json.loads(line) for line in (bag / "custody/events.jsonl").read_text().splitlines()]
    assert sorted(e["type"] for e in leaves) == ["derivation", "redaction.approve", "redaction.draft"]
    assert {e["data"]["redaction_id"] for e in leaves} == {aid}  # nothing about the pending redaction
    deriv = next(e for e in leaves if e["type"] == "derivation")
    assert json.loads((bag / f"data/redactions/{aid}/derivation.json").read_text()) == deriv["data"]
    assert deriv["data"]["derivative"]["sha256"] == rec.redacted_sha256
    assert len(list((bag / "custody/proofs").iterdir())) == 3
    stmt = json.loads((bag / "statement.json").read_text())
    assert stmt["items"] == [] and [x["redaction_id"] for x in stmt["redactions"]] == [aid]
    readme = (bag / "README.txt").read_text()
    for needle in ("verify_redaction.py", "numpy", "ffmpeg", "does not contain", s["file"]["sha256"],
                   f"data/redactions/{aid}/regions.json"):
        assert needle in readme, needle

    # the bag validates: bagit, the stdlib verifier; the redaction check with the original from the agency
    bagit.Bag(str(bag)).validate()
    v = _py("verify.py", ".", cwd=bag)
    assert v.returncode == 0 and "VERDICT: VALID" in v.stdout, v.stdout + v.stderr
    orig = tmp_path / "original.mp4"  # handed over separately by the agency
    orig.write_bytes(b"".join(runtime.store.get(s["file"]["storage_key"])))
    vr = _py("verify_redaction.py", str(orig), f"data/redactions/{aid}/redacted.mp4",
             f"data/redactions/{aid}/regions.json", "--ffmpeg", ffmpeg_exe(), cwd=bag, exe=sys.executable)
    assert vr.returncode == 0, vr.stdout + vr.stderr
    # a copy that is not this redaction of the original (the original itself) fails the check
    bad = _py("verify_redaction.py", str(orig), str(orig), f"data/redactions/{aid}/regions.json",
              "--ffmpeg", ffmpeg_exe(), cwd=bag, exe=sys.executable)
    assert bad.returncode == 1 and "not hidden" in bad.stdout + bad.stderr

    # tampering with the region list breaks the bag
    (bag / f"data/redactions/{aid}/regions.json").write_text("{}")
    v = _py("verify.py", ".", cwd=bag)
    assert v.returncode == 1 and f"data/redactions/{aid}/regions.json" in v.stdout


def test_disclosure_over_the_cli_and_nothing_approved(runtime, client, tokens, media, settings,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _setup(runtime, client, tokens, media)
    env = {"LIUHEN_DATA_DIR": str(settings.data_dir), "LIUHEN_DATABASE_URL": str(settings.database_url),
           "LIUHEN_STORE": "local"}
    out = tmp_path / "bag"
    res = run_cli(["export", CASE, "--request", str(s["request"]), "--disclosure", "--redaction", str(s["pending"]),
                   "--out", str(out), "--as", "clerk"], monkeypatch, env)
    assert isinstance(res.exception, RedactionNotApproved) and "only approved" in str(res.exception)
    assert not out.exists()
    res = run_cli(["export", CASE, "--request", str(s["request"]), "--disclosure", "--out", str(out), "--as", "clerk",
                   "--json"], monkeypatch, env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["derived"] == 1 and (out / "verify_redaction.py").is_file()
    assert _py("verify.py", ".", cwd=out).returncode == 0
    # a case whose files have no approved redaction has nothing to disclose
    runtime.catalog.one("UPDATE redactions SET state = 'rendered' WHERE id = %s RETURNING id", (s["approved"],))
    res = run_cli(["export", CASE, "--request", str(s["request"]), "--disclosure", "--out", str(tmp_path / "b2"),
                   "--as", "clerk"], monkeypatch, env)
    assert isinstance(res.exception, NothingToExport) and "no approved redaction" in str(res.exception)
