"""Verified export, custody binding (issue 8 review): what the tag manifest alone cannot protect.

The tag manifest is unsigned, so anyone holding a bag can rewrite a tag file and regenerate
``tagmanifest-*.txt``. These tests do exactly that and require the verifier to still fail, naming
the item, because the export's ``manifest`` event — proven in the signed log — binds the set of
events, the payload manifests, the statement and derivation records and the previous checkpoint,
and because statement.json and derivations.json are cross-checked against the proven ingestion and
derivation events. Also: a forged catalog row never reaches the statement, and an original without
an ingestion event is refused before anything is built.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from liuhen.core.verifier import Report, verify_bag
from liuhen.export.build import MANIFEST_EVENT
from liuhen.export.errors import ExportError
from liuhen.export.service import export_case
from tests.export.test_service import _verify_py, exported  # noqa: F401  (module fixture)


def _rewrite_tagmanifests(bag: Path) -> None:
    """What a forger does after editing tag files: recompute every tagmanifest-<alg>.txt."""
    tags = sorted(p for p in bag.rglob("*") if p.is_file() and p.relative_to(bag).parts[0] != "data"
                  and not p.name.startswith("tagmanifest-"))
    for tm in bag.glob("tagmanifest-*.txt"):
        algo = tm.name[len("tagmanifest-"):-4]
        tm.write_text("".join(f"{hashlib.new(algo, p.read_bytes()).hexdigest()}  {p.relative_to(bag).as_posix()}\n"
                              for p in tags))


def _failures(rep: Report, item: str) -> list[str]:
    return [f.what for f in rep.failures if f.item == item or f.item.startswith(item)]


def _copy(exported: dict[str, Any], tmp_path: Path) -> Path:  # noqa: F811
    bag = tmp_path / "bag"
    shutil.copytree(exported["full"].path, bag)
    assert verify_bag(str(bag)).ok
    return bag


# ------------------------------------------------------------------ forgeries with a rewritten tag manifest


def _drop_events(bag: Path) -> None:
    """Remove every hold.set / access.* event line, its index entry and its proof."""
    c = bag / "custody"
    lines = (c / "events.jsonl").read_text().split("\n")[:-1]
    idx = json.loads((c / "events-index.json").read_text())
    keep_l: list[str] = []
    keep_i: list[dict[str, Any]] = []
    dropped = 0
    for line, meta in zip(lines, idx["events"], strict=True):
        if meta["type"] == "hold.set" or meta["type"].startswith("access."):
            (c / "proofs" / f"{meta['idx']}.tlog-proof").unlink()
            dropped += 1
        else:
            keep_l.append(line)
            keep_i.append({**meta, "line": len(keep_i) + 1})
    assert dropped >= 2
    (c / "events.jsonl").write_text("".join(x + "\n" for x in keep_l))
    (c / "events-index.json").write_text(json.dumps({**idx, "events": keep_i}, ensure_ascii=False, indent=1) + "\n")


def test_dropping_events_and_rewriting_the_tag_manifest_fails(exported: dict[str, Any],  # noqa: F811
                                                               tmp_path: Path) -> None:
    bag = _copy(exported, tmp_path)
    _drop_events(bag)
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    assert not rep.ok
    assert any("export manifest event" in w for w in _failures(rep, "custody/events.jsonl")), rep.failures
    idx_fail = [f for f in rep.failures if f.item == "custody/events-index.json" and "log indices" in f.what]
    assert idx_fail and "missing log indices [" in (idx_fail[0].computed or "")
    r = _verify_py(bag)
    assert r.returncode == 1 and "custody/events.jsonl" in r.stdout


def test_rewriting_bag_info_with_the_tag_manifest_fails(exported: dict[str, Any],  # noqa: F811
                                                        tmp_path: Path) -> None:
    bag = _copy(exported, tmp_path)
    info = bag / "bag-info.txt"
    info.write_text(info.read_text().replace("Liuhen-Request-Id: 7", "Liuhen-Request-Id: 8")
                    .replace("Source-Organization: 杭州市综合行政执法局", "Source-Organization: 别的机关"))
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    whats = _failures(rep, "bag-info.txt")
    assert not rep.ok and any(w.startswith("Liuhen-Request-Id vs the export manifest event") for w in whats)
    assert any(w.startswith("Source-Organization vs the export manifest event") for w in whats), whats


def test_removing_the_manifest_event_fails(exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    bag = _copy(exported, tmp_path)
    (bag / MANIFEST_EVENT).unlink()
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    assert not rep.ok and "required file is missing" in _failures(rep, MANIFEST_EVENT)


def test_rewriting_a_payload_manifest_entry_list_fails(exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    """Drop a derived file and its manifest lines, fix Payload-Oxum, rewrite the tag manifest."""
    bag = _copy(exported, tmp_path)
    victim = sorted((bag / "data" / "derived").rglob("*.mp4"))[0]
    rel = victim.relative_to(bag).as_posix()
    size = victim.stat().st_size
    victim.unlink()
    for m in bag.glob("manifest-*.txt"):
        m.write_text("".join(x for x in m.read_text().splitlines(keepends=True) if not x.rstrip().endswith(rel)))
    info = bag / "bag-info.txt"
    oxum = next(x for x in info.read_text().splitlines() if x.startswith("Payload-Oxum:"))
    octets, n = oxum.split(": ")[1].split(".")
    info.write_text(info.read_text().replace(f"{octets}.{n}", f"{int(octets) - size}.{int(n) - 1}"))
    der = bag / "custody" / "derivations.json"
    recs = json.loads(der.read_text())
    recs["derived"] = [r for r in recs["derived"] if r["path"] != rel]
    der.write_text(json.dumps(recs, ensure_ascii=False, indent=1) + "\n")
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    assert not rep.ok
    assert any("export manifest event" in w for w in _failures(rep, "manifest-sha256.txt")), rep.failures
    assert any("Payload-Oxum" in w for w in _failures(rep, "bag-info.txt"))


def test_rewriting_derivation_argv_fails(exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    bag = _copy(exported, tmp_path)
    der = bag / "custody" / "derivations.json"
    recs = json.loads(der.read_text())
    target = recs["derived"][0]
    target["argv"] = ["ffmpeg", "-i", "{input}", "-vf", "delogo=x=0:y=0:w=100:h=100", "{output}"]
    target["recipe"]["argv"] = target["argv"]
    der.write_text(json.dumps(recs, ensure_ascii=False, indent=1) + "\n")
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    assert not rep.ok
    whats = _failures(rep, target["path"])
    assert any(w.startswith("argv in custody/derivations.json vs its derivation event") for w in whats), rep.failures
    assert any(w.startswith("SHA-256 vs the export manifest event") for w in _failures(rep, "custody/derivations.json"))
    r = _verify_py(bag)
    assert r.returncode == 1 and target["path"] in r.stdout


def test_rewriting_the_statement_producer_fails(exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    bag = _copy(exported, tmp_path)
    st = bag / "statement.json"
    doc = json.loads(st.read_text())
    doc["items"][0]["producer"]["officer_no"] = "330999"
    doc["items"][0]["production_time"]["start"] = "2026-03-02T09:00:00Z"
    st.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    assert not rep.ok
    whats = _failures(rep, "statement.json item 1")
    assert any(w.startswith("producer.officer_no vs its ingestion event") for w in whats), rep.failures
    assert any(w.startswith("production_time.start vs its ingestion event") for w in whats)
    r = _verify_py(bag)
    assert r.returncode == 1 and "statement.json item 1" in r.stdout


def test_removing_the_consistency_proof_fails_when_a_checkpoint_existed(exported: dict[str, Any],  # noqa: F811
                                                                         tmp_path: Path) -> None:
    bag = _copy(exported, tmp_path)
    man = json.loads((bag / MANIFEST_EVENT).read_text())
    assert man["data"]["previous_checkpoint"]["size"] >= 1  # the sample case published one before
    (bag / "custody" / "consistency").write_text("liuhen.consistency@v1\nold none\n")
    _rewrite_tagmanifests(bag)
    rep = verify_bag(str(bag))
    assert not rep.ok
    assert any("consistency proof is missing" in w for w in _failures(rep, "custody/consistency")), rep.failures
    r = _verify_py(bag)
    assert r.returncode == 1 and "custody/consistency" in r.stdout



# ------------------------------------------------------------------ the exporter side


def test_manifest_event_is_in_the_log_before_the_checkpoint(exported: dict[str, Any]) -> None:  # noqa: F811
    from liuhen.integrity import log

    res = exported["full"]
    assert 0 <= res.manifest_event_idx < res.checkpoint_size <= res.event_idx
    leaf = log.leaf(exported["rt"].catalog, res.manifest_event_idx)
    assert (res.path / MANIFEST_EVENT).read_bytes() == leaf.body + b"\n"
    data = leaf.event.data
    assert leaf.event.type == "export" and data["phase"] == "manifest"
    idx = json.loads((res.path / "custody" / "events-index.json").read_text())["events"]
    assert data["event_indices"] == [m["idx"] for m in idx]
    assert data["files"]["custody/events.jsonl"] == hashlib.sha256(
        (res.path / "custody" / "events.jsonl").read_bytes()).hexdigest()
    assert {"manifest-sha256.txt", "manifest-sm3.txt", "statement.json"} <= set(data["files"])
    final = log.leaf(exported["rt"].catalog, res.event_idx).event.data
    assert final["phase"] == "sealed" and final["manifest_event_idx"] == res.manifest_event_idx
    rep = verify_bag(str(res.path))
    assert rep.checked["export manifest event proofs"] == 1
    assert rep.checked["event sets matched to the export manifest event"] == 1
    assert rep.checked["statement items matched to proven ingestion events"] == res.originals
    assert rep.checked["derivation records matched to proven derivation events"] == res.derived


def test_forged_catalog_row_does_not_reach_the_statement(exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    rt, f = exported["rt"], exported["case"]["files"]["h264_mp4"]
    rt.catalog.one("UPDATE files SET officer_no = '999999', device_serial = 'FORGED-9', unit_code = '999900', "
                   "recorded_at = recorded_at + interval '1 day' WHERE id = %s RETURNING id", (f["id"],))
    try:
        res = export_case(rt, exported["case"]["case_no"], tmp_path / "bag", actor="clerk:chen", stage="investigation")
    finally:
        rt.catalog.one("UPDATE files SET officer_no = %s, device_serial = %s, unit_code = %s, recorded_at = %s "
                       "WHERE id = %s RETURNING id", (f["officer_no"], f["device_serial"], f["unit_code"],
                                                       f["recorded_at"], f["id"]))
    text = (res.path / "statement.json").read_text()
    assert "999999" not in text and "FORGED-9" not in text and "999900" not in text
    item = next(it for it in json.loads(text)["items"] if it["sha256"] == f["sha256"])
    assert item["producer"]["officer_no"] == "330001" and item["producer"]["device_serial"] == "DSJ-A1-0001"
    assert item["producer"]["officer_name"] == "张三"
    assert item["production_time"]["start"] == "2026-03-01T09:00:00Z"
    assert verify_bag(str(res.path)).ok


def test_original_without_ingestion_event_is_refused_before_building(exported: dict[str, Any],  # noqa: F811
                                                                      tmp_path: Path) -> None:
    from liuhen.cases import service as cases
    from liuhen.storage.base import key_for

    rt = exported["rt"]
    src = tmp_path / "stray.mp4"
    src.write_bytes(b"bytes that were never ingested " + uuid.uuid4().bytes)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    info = rt.store.put(key_for(sha), src, sha256=sha)
    rt.catalog.one(
        "INSERT INTO files (sha256, size, media_kind, ext, original_name, storage_key, storage_version, "
        "retention_until) VALUES (%s, %s, 'video', '.mp4', 'stray.mp4', %s, %s, %s) RETURNING id",
        (sha, src.stat().st_size, info.key, info.version, info.retain_until))
    case_no = f"NOINGEST-{uuid.uuid4().hex[:6]}"
    cases.create_case(rt, case_no=case_no, agency="杭州市综合行政执法局", subject="测试", case_type="penalty",
                      actor="officer:330001", unit_code="330100")
    cases.link_clip(rt, case_no, sha, stage="filing", actor="officer:330001")
    size_before = rt.catalog.one("SELECT count(*) AS n FROM log_events")["n"]
    with pytest.raises(ExportError, match=f"no ingestion event.*stray.mp4 \\(sha256 {sha}\\)"):
        export_case(rt, case_no, tmp_path / "bag", actor="clerk:chen")
    assert not (tmp_path / "bag").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    assert rt.catalog.one("SELECT count(*) AS n FROM log_events")["n"] == size_before  # no manifest event either
