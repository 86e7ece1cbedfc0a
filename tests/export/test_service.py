"""Verified export (issue 8): a court-ready BagIt bag that anyone can check offline.

One real case per module (real PostgreSQL, the local write-once store, ffmpeg-made footage,
ingestion events in the Merkle log, links through the API's case service) is exported once in full
(with SHA-256 and SM3 manifests) and once per partial selection. Then the Library of Congress
``bagit`` package validates every bag, the shipped ``verify.py`` exits 0 in a subprocess, and each
tampering makes it exit non-zero naming what failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bagit
import psycopg
import pytest

from benchmarks.export import build_sample_case
from liuhen.cases.errors import CaseNotFound
from liuhen.catalog.db import with_dbname
from liuhen.core.config import Settings
from liuhen.core.verifier import verify_bag
from liuhen.export.errors import ExportError
from liuhen.export.service import export_case
from liuhen.integrity import checkpoint, log
from liuhen.integrity.note import Signer, sign


@pytest.fixture(scope="module")
def exported(pg_admin_url: str, pg_template: str, media: dict[str, Path],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One case, exported in full and partially; the runtime stays open for the module."""
    from liuhen.wiring import build_runtime

    name = f"liuhen_export_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    tmp = tmp_path_factory.mktemp("export")
    settings = Settings(data_dir=tmp / "data", database_url=with_dbname(pg_admin_url, name), store="local",
                        digests=["sha256", "sm3"])
    rt = build_runtime(settings)
    try:
        case = build_sample_case(rt, media)
        full = export_case(rt, case["case_no"], tmp / "bag-full", actor="clerk:chen", request_id=7)
        stage = export_case(rt, case["case_no"], tmp / "bag-service", actor="clerk:chen", stage="service")
        t0 = case["t0"]
        ranged = export_case(rt, case["case_no"], tmp / "bag-range", actor="clerk:chen",
                             t_from=t0.isoformat(), t_to=(t0.replace(minute=45)).isoformat())
        yield {"rt": rt, "case": case, "full": full, "stage": stage, "range": ranged, "tmp": tmp, "media": media}
    finally:
        rt.close()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _verify_py(bag: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the bag's own verify.py the way a court clerk would: a plain python3, the bag as cwd."""
    py = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    return subprocess.run([py, "verify.py", ".", *extra], cwd=bag, capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin"), "LC_ALL": "C.UTF-8"})


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ------------------------------------------------------------------ a full export


def test_full_export_validates_with_library_of_congress_bagit(exported: dict[str, Any]) -> None:
    bag = bagit.Bag(str(exported["full"].path))
    bag.validate()  # raises BagValidationError on any problem
    assert bag.info["External-Identifier"] == exported["case"]["case_no"]
    assert bag.info["Source-Organization"] == "杭州市综合行政执法局"
    assert bag.info["Liuhen-Exporter"] == "clerk:chen"
    assert bag.info["Payload-Oxum"] == f"{exported['full'].bytes}.{exported['full'].files}"
    assert "Bagging-Date" in bag.info and "Liuhen-Export-Time" in bag.info


def test_full_export_verify_py_exits_zero_and_says_valid(exported: dict[str, Any]) -> None:
    r = _verify_py(exported["full"].path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "VERDICT: VALID" in r.stdout
    j = _verify_py(exported["full"].path, "--json")
    rep = json.loads(j.stdout)
    assert rep["ok"] is True and rep["failures"] == []
    # every kind of check ran: manifests (sha256 and sm3), tag manifest, signature, proofs, consistency
    checked = rep["checked"]
    assert checked["manifest sha256 entries"] == exported["full"].files
    assert checked["manifest sm3 entries"] == exported["full"].files
    assert checked["checkpoint signatures"] == 1
    assert checked["event inclusion proofs"] == exported["full"].events
    assert checked["consistency proofs"] == 1
    assert checked["originals matched to a proven ingestion event"] == exported["full"].originals


def test_originals_are_byte_for_byte_and_derived_are_separate(exported: dict[str, Any]) -> None:
    bag = exported["full"].path
    originals = sorted((bag / "data" / "originals").iterdir())
    derived = sorted(p for p in (bag / "data" / "derived").rglob("*") if p.is_file())
    assert len(originals) == 4 and exported["full"].originals == 4
    assert len(derived) == 4 and exported["full"].derived == 4  # proxy + thumbnail for two clips
    media_digests = {_sha256(Path(p)) for k, p in exported["media"].items() if k in
                     ("h264_mp4", "h264_mp4_b", "jpg", "wav")}
    assert {_sha256(p) for p in originals} == media_digests  # I1: exactly the recorded bytes
    recs = json.loads((bag / "custody" / "derivations.json").read_text())["derived"]
    assert {r["path"] for r in recs} == {str(p.relative_to(bag)) for p in derived}
    for r in recs:
        assert r["argv"][0] == "ffmpeg" and r["tool_versions"] and r["original_sha256"] in media_digests  # I7


def test_custody_record_covers_the_case_and_nothing_of_other_cases(exported: dict[str, Any]) -> None:
    bag = exported["full"].path
    lines = (bag / "custody" / "events.jsonl").read_bytes().split(b"\n")[:-1]
    index = json.loads((bag / "custody" / "events-index.json").read_text())["events"]
    rt = exported["rt"]
    for line, meta in zip(lines, index, strict=True):
        assert log.leaf(rt.catalog, meta["idx"]).body == line  # the exact leaf bytes
        assert (bag / "custody" / "proofs" / f"{meta['idx']}.tlog-proof").is_file()
    types = {m["type"] for m in index}
    assert {"ingestion", "derivation", "case.create", "stage.change", "link", "hold.set", "access.view"} <= types
    premis = {m["premis_event_type"] for m in index}
    assert {"ingestion", "derivation", "access", "policy assignment"} <= premis
    assert b"OTHER-CASE" not in b"".join(lines)  # another case's access to the same clip is not disclosed
    cp = (bag / "custody" / "checkpoint").read_text()
    assert cp == checkpoint.at_size(rt.catalog, exported["full"].checkpoint_size).note


def test_statement_gives_method_time_producer_and_what_it_proves(exported: dict[str, Any]) -> None:
    doc = json.loads((exported["full"].path / "statement.json").read_text())
    assert doc["case"]["case_no"] == exported["case"]["case_no"]
    by_name = {it["original_name"]: it for it in doc["items"]}
    clip = by_name[exported["media"]["h264_mp4"].name]
    assert "执法记录仪" in clip["production_method"]["zh"] and clip["sha256"] in clip["production_method"]["zh"]
    assert clip["production_time"]["start"] == "2026-03-01T09:00:00Z"
    assert clip["production_time"]["end"] == "2026-03-01T09:00:04Z"
    assert clip["producer"] == {"officer_no": "330001", "officer_name": "张三", "unit_code": "330100",
                                "device_serial": "DSJ-A1-0001", "device_firmware": "v2.1"}
    assert clip["proves"] == ["当事人在人行道摆摊经营的事实"]
    assert clip["links"][0]["stage"] == "investigation"
    assert clip["links"][0]["activity"]["kind"] == "evidence_collection"
    assert clip["ingestion"]["log_index"] is not None
    html = (exported["full"].path / "statement.html").read_text()
    for label in ("制作方法", "制作时间", "制作人", "证明对象", "当事人在人行道摆摊经营的事实"):
        assert label in html
    index = (exported["full"].path / "index.html").read_text()
    assert '<img src="data/derived/' in index  # thumbnails shown
    readme = (exported["full"].path / "README.txt").read_text()
    assert "python3 verify.py ." in readme and "sha256sum -c manifest-sha256.txt" in readme


def test_manual_sha256sum_steps_from_the_readme_pass(exported: dict[str, Any]) -> None:
    bag = exported["full"].path
    for m in ("tagmanifest-sha256.txt", "manifest-sha256.txt"):
        r = subprocess.run(["sha256sum", "-c", m], cwd=bag, capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def test_export_is_an_audit_event_with_the_tagmanifest_digest(exported: dict[str, Any]) -> None:
    res, rt = exported["full"], exported["rt"]
    assert res.tagmanifest_sha256 == _sha256(res.path / "tagmanifest-sha256.txt")
    leaf = log.leaf(rt.catalog, res.event_idx)
    assert leaf.event.type == "export" and leaf.event.actor == "clerk:chen"
    assert leaf.event.subject == {"case": exported["case"]["case_no"]}
    assert leaf.event.data["tagmanifest_sha256"] == res.tagmanifest_sha256
    assert leaf.event.data["request_id"] == 7
    assert res.event_idx >= res.checkpoint_size  # logged after the checkpoint the bag proves against
    row = rt.catalog.one("SELECT * FROM exports WHERE id = %s", (res.export_id,))
    assert row["tagmanifest_sha256"] == res.tagmanifest_sha256 and row["event_id"] == res.event_id
    assert row["request_id"] == "7" and row["out_path"] == str(res.path)


def test_no_staging_directory_is_left_behind(exported: dict[str, Any]) -> None:
    assert not [p for p in exported["tmp"].iterdir() if ".partial-" in p.name]


# ------------------------------------------------------------------ partial exports


def test_stage_export_holds_only_that_stage_and_verifies_alone(exported: dict[str, Any]) -> None:
    res = exported["stage"]
    bagit.Bag(str(res.path)).validate()
    r = _verify_py(res.path)
    assert r.returncode == 0, r.stdout
    originals = list((res.path / "data" / "originals").iterdir())
    assert [_sha256(p) for p in originals] == [exported["case"]["files"]["wav"]["sha256"]]
    events = [json.loads(x) for x in (res.path / "custody" / "events.jsonl").read_text().splitlines()]
    subjects = {e["subject"].get("sha256") for e in events} - {None}
    assert subjects == {exported["case"]["files"]["wav"]["sha256"]}  # no event about an unselected item
    assert {"ingestion", "link", "case.create"} <= {e["type"] for e in events}
    assert json.loads((res.path / "statement.json").read_text())["export"]["selection"]["stage"] == "service"


def test_time_range_export_holds_only_recordings_in_range_and_verifies_alone(exported: dict[str, Any]) -> None:
    res = exported["range"]
    bagit.Bag(str(res.path)).validate()
    assert _verify_py(res.path).returncode == 0
    got = {_sha256(p) for p in (res.path / "data" / "originals").iterdir()}
    f = exported["case"]["files"]
    assert got == {f["h264_mp4"]["sha256"], f["h264_mp4_b"]["sha256"]}  # 09:00 and 09:30, not 10:00 / next day


def test_export_refuses_unknown_case_non_empty_target_and_empty_selection(exported: dict[str, Any]) -> None:
    rt, tmp = exported["rt"], exported["tmp"]
    with pytest.raises(CaseNotFound):
        export_case(rt, "NO-SUCH-CASE", tmp / "x1", actor="clerk:chen")
    (tmp / "x2").mkdir()
    (tmp / "x2" / "keep.txt").write_text("x")
    with pytest.raises(ExportError, match="not an empty directory"):
        export_case(rt, exported["case"]["case_no"], tmp / "x2", actor="clerk:chen")
    with pytest.raises(ExportError, match="nothing to export"):
        export_case(rt, exported["case"]["case_no"], tmp / "x3", actor="clerk:chen", stage="closure")
    assert not (tmp / "x1").exists() and not (tmp / "x3").exists()


# ------------------------------------------------------------------ tampering


def _flip_original(bag: Path) -> str:
    p = sorted((bag / "data" / "originals").iterdir())[0]
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 0x01
    p.write_bytes(bytes(b))
    return str(p.relative_to(bag))


def _edit_event(bag: Path) -> str:
    p = bag / "custody" / "events.jsonl"
    lines = p.read_text().split("\n")
    lines[0] = lines[0].replace('"actor":"', '"actor":"X', 1)
    p.write_text("\n".join(lines))
    return "custody/events.jsonl line 1"


def _drop_file(bag: Path) -> str:
    p = sorted((bag / "data" / "derived").rglob("*.mp4"))[0]
    p.unlink()
    return str(p.relative_to(bag))


def _add_payload(bag: Path) -> str:
    (bag / "data" / "originals" / "planted.mp4").write_bytes(b"not evidence")
    return "data/originals/planted.mp4"


def _add_tag(bag: Path) -> str:
    (bag / "custody" / "note.txt").write_text("added later")
    return "custody/note.txt"


def _swap_proofs(bag: Path) -> str:
    a, b = sorted((bag / "custody" / "proofs").iterdir())[:2]
    ta, tb = a.read_bytes(), b.read_bytes()
    a.write_bytes(tb)
    b.write_bytes(ta)
    return f"custody/proofs/{a.name}"


def _replace_checkpoint(bag: Path) -> str:
    """A checkpoint of the same origin and size, but a forged root, signed by an impostor key."""
    p = bag / "custody" / "checkpoint"
    body = p.read_text().split("\n\n")[0] + "\n"
    lines = body.split("\n")
    lines[2] = "A" * 43 + "="
    impostor = Signer.generate(lines[0])
    p.write_text(sign("\n".join(lines), [impostor]))
    return "custody/checkpoint"


def _replace_signature(bag: Path) -> str:
    p = bag / "custody" / "checkpoint"
    text = p.read_text()
    head, sig = text.rsplit(" ", 1)
    import base64

    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 0x80
    p.write_text(head + " " + base64.b64encode(bytes(raw)).decode() + "\n")
    return "custody/checkpoint"


def _alter_bag_info(bag: Path) -> str:
    p = bag / "bag-info.txt"
    p.write_text(p.read_text().replace("clerk:chen", "clerk:someone-else"))
    return "bag-info.txt"


def _resign_manifests(bag: Path) -> str:
    """Swap an original for other bytes AND rewrite every manifest to match: only the log catches it."""
    p = sorted((bag / "data" / "originals").iterdir())[0]
    p.write_bytes(p.read_bytes()[:-100])
    b = bagit.Bag(str(bag))
    b.save(manifests=True)  # recompute manifests, Payload-Oxum and tag manifests
    for m in bag.glob("*manifest-sha512.txt"):  # keep the bag as Liuhen wrote it (sha256 only)
        m.unlink()
    return str(p.relative_to(bag))


def _cut_consistency(bag: Path) -> str:
    p = bag / "custody" / "consistency"
    lines = p.read_text().split("\n")
    lines[3] = "B" * 43 + "="
    p.write_text("\n".join(lines))
    return "custody/consistency"


TAMPERS: dict[str, Callable[[Path], str]] = {
    "flip_one_byte_of_an_original": _flip_original,
    "edit_one_event_line": _edit_event,
    "drop_a_file": _drop_file,
    "add_a_payload_file": _add_payload,
    "add_a_tag_file": _add_tag,
    "swap_two_proofs": _swap_proofs,
    "replace_the_checkpoint": _replace_checkpoint,
    "replace_the_checkpoint_signature": _replace_signature,
    "alter_bag_info": _alter_bag_info,
    "replace_an_original_and_rewrite_all_manifests": _resign_manifests,
    "tamper_the_consistency_proof": _cut_consistency,
}


@pytest.mark.parametrize("tamper", list(TAMPERS), ids=list(TAMPERS))
def test_tampering_fails_verification_and_names_the_item(exported: dict[str, Any], tmp_path: Path,
                                                         tamper: str) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(exported["full"].path, bag)
    assert verify_bag(str(bag)).ok  # the copy is intact before tampering
    item = TAMPERS[tamper](bag)
    rep = verify_bag(str(bag))
    assert not rep.ok
    assert any(f.item == item or f.item.startswith(item) for f in rep.failures), [f.item for f in rep.failures]
    r = _verify_py(bag)
    assert r.returncode == 1, r.stdout
    assert "VERDICT: INVALID" in r.stdout and item in r.stdout


def test_pinning_a_different_trusted_key_rejects_the_bag(exported: dict[str, Any]) -> None:
    other = Signer.generate("liuhen.local/audit").verifier.vkey
    r = _verify_py(exported["full"].path, "--trusted-key", other)
    assert r.returncode == 1 and "no signature by a trusted key" in r.stdout
    real = (exported["full"].path / "custody" / "log-key.pub").read_text().split()[0]
    assert _verify_py(exported["full"].path, "--trusted-key", real).returncode == 0


def test_liuhen_verify_cli_uses_the_same_verifier(exported: dict[str, Any], tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from liuhen.commands.export import register

    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)
    def _noop() -> None:  # a second command keeps typer in multi-command mode
        pass

    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(exported["full"].path), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    bag = tmp_path / "bag"
    shutil.copytree(exported["full"].path, bag)
    _flip_original(bag)
    bad = runner.invoke(app, ["verify", str(bag)])
    assert bad.exit_code == 1 and "VERDICT: INVALID" in bad.output
