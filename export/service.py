"""The export stage's I/O: check the approved request, log the start, build the bag, record it.

``run_export`` is what the CLI, the API route and the demo call. ``export_case`` (called after the
approval was checked) reads the selection (``export.select``), lets the pure core decide what goes in
(``export.build``, ``export.statement``) and does the I/O:

1. select the case's linked, stored originals and their derivatives and events;
2. build the bag in a hidden staging directory next to ``out_dir``: originals streamed from the store
   (hashed while copied, checked against the catalog digest), derived files, custody record,
   statement, index, README and ``verify.py``;
3. log the export's ``manifest`` event (binding events, payload manifests and statement), publish a
   checkpoint covering it, add every proof, the checkpoint, the consistency proof and the log key;
4. in one transaction record the ``export`` event (with the tag-manifest digest) and the ``exports``
   row — durable before the bag is handed over (I5, I8);
5. rename the staging directory to ``out_dir``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.cases import access
from liuhen.cases.principal import Principal
from liuhen.core.timefmt import utcnow
from liuhen.export import build, select
from liuhen.export.bag import BagWriter
from liuhen.export.errors import ExportError, ExportSelectionInvalid, ExportTargetNotEmpty
from liuhen.export.statement import index_html, readme_txt, statement_doc, statement_html, statement_json
from liuhen.integrity import checkpoint, log, proof, tlogproof
from liuhen.integrity import keys as logkeys
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.events import Event
from liuhen.runtime import Runtime

Row = dict[str, Any]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: int  # payload files (originals + derived)
    bytes: int  # payload bytes
    originals: int
    derived: int
    events: int
    tagmanifest_sha256: str
    event_id: int
    event_idx: int
    checkpoint_size: int
    export_id: int
    warnings: list[str] = field(default_factory=list)
    manifest_event_idx: int = -1

    def as_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["path"] = str(self.path)
        return d


def _target(out_dir: str | os.PathLike[str]) -> Path:
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportTargetNotEmpty(f"{out} exists and is not an empty directory")
    return out


def _originals(rt: Runtime, bag: BagWriter, files: list[Row]) -> dict[str, str]:
    """Stream every original from the store into the bag; its bytes must match the catalog digest."""
    paths: dict[str, str] = {}
    for f in files:
        rel = build.original_rel(f)
        got = bag.add_payload_stream(rel, rt.store.get(f["storage_key"]))
        if got["sha256"] != f["sha256"]:
            raise VerificationError(f"original {f['storage_key']}: bytes from the store", f["sha256"], got["sha256"])
        if f.get("sm3") and "sm3" in got and got["sm3"] != f["sm3"]:
            raise VerificationError(f"original {f['storage_key']}: SM3 from the store", f["sm3"], got["sm3"])
        paths[f["sha256"]] = f"data/{rel}"
    return paths


def _derived(rt: Runtime, bag: BagWriter, sel: select.Selection, paths: dict[str, str],
             warnings: list[str]) -> tuple[list[Row], dict[str, list[dict[str, str]]]]:
    """Copy each derivative that has a proven derivation event; return records and per-original lists."""
    by_id = {int(e["id"]): e for e in sel.events}
    recs: list[Row] = []
    by_file: dict[str, list[dict[str, str]]] = {}
    for d in sel.derivatives:
        what = f"derived {d['kind']} #{d['seq']} of {d['original_sha256'][:16]}"
        found = build.derivation_leaf(by_id, sel.events, d)
        if found is None:
            warnings.append(f"{what} has no derivation event in the log; not exported")
            continue
        src = Path(d["path"]) if Path(d["path"]).is_absolute() else Path(rt.settings.derived_dir) / d["path"]
        if not src.is_file():
            warnings.append(f"{what} missing at {src}")
            continue
        rel = build.derived_rel(d, src.suffix)
        got = bag.add_payload_file(rel, src)
        if got["sha256"] != d["sha256"]:
            raise VerificationError(f"derived file {src}", d["sha256"], got["sha256"])
        recs.append(build.derived_record(d, *found, f"data/{rel}", paths[d["original_sha256"]]))
        by_file.setdefault(d["original_sha256"], []).append({"kind": d["kind"], "path": f"data/{rel}"})
    return recs, by_file


def _tag_files(rt: Runtime, bag: BagWriter, doc: Row, jsonl: bytes, ev_index: list[Row], recs: list[Row],
               log_size: int) -> None:
    zone = rt.settings.display_tz
    bag.add_tag("custody/events.jsonl", jsonl)
    bag.add_tag("custody/events-index.json", json.dumps(
        {"log_size": log_size, "events": ev_index}, ensure_ascii=False, indent=1) + "\n")
    bag.add_tag("custody/derivations.json", json.dumps({"derived": recs}, ensure_ascii=False, indent=1,
                                                       default=str) + "\n")
    bag.add_tag("statement.json", statement_json(doc))
    bag.add_tag("statement.html", statement_html(doc, zone))
    bag.add_tag("index.html", index_html(doc, zone))
    bag.add_tag("README.txt", readme_txt(doc, bag.algos, zone))
    bag.add_tag("verify.py", build.VERIFIER_SOURCE.read_bytes())


def _seal(rt: Runtime, bag: BagWriter, sel: select.Selection, actor: str, selection: Row,
          request_id: int | str | None, now: datetime, warnings: list[str],
          extra_bound: tuple[str, ...] = ()) -> tuple[int, checkpoint.Checkpoint]:
    """Log the manifest event, publish a checkpoint covering it, add the proofs and the log keys.

    ``extra_bound``: tag files beyond ``build.BOUND_FILES`` whose SHA-256 the manifest event records."""
    case_no = sel.case["case_no"]
    manifests = bag.seal_payload()
    prev_cp = checkpoint.latest(rt.catalog)
    prev_cp = prev_cp if prev_cp is not None and prev_cp.size >= 1 else None
    digests = {**{rel: bag.tag_sha256(rel) for rel in (*build.BOUND_FILES, *extra_bound)}, **manifests}
    mdata = build.manifest_data(sel.case, selection, request_id, now, bag.oxum, sel.events, digests,
                                None if prev_cp is None else (prev_cp.size, prev_cp.root_b64))
    _, man_idx = log.append(rt.catalog, Event("export", actor, subject={"case": case_no}, data=mdata))
    cp = checkpoint.publish(rt.catalog, rt.settings)
    if cp.size <= man_idx:  # pragma: no cover - publish() sequences first
        raise ExportError(f"checkpoint size {cp.size} does not cover the manifest event {man_idx}")
    bag.add_tag(build.MANIFEST_EVENT, log.leaf(rt.catalog, man_idx).body + b"\n")
    bag.add_tag(build.MANIFEST_PROOF, tlogproof.for_event(rt.catalog, man_idx, cp))
    for e in sel.events:
        bag.add_tag(f"custody/proofs/{e['idx']}.tlog-proof", tlogproof.for_event(rt.catalog, e["idx"], cp))
    bag.add_tag("custody/checkpoint", cp.note)
    cons = [] if prev_cp is None else proof.consistency_proof(rt.catalog, prev_cp.size, cp.size)
    bag.add_tag("custody/consistency", build.consistency_file(
        None if prev_cp is None else (prev_cp.size, prev_cp.note), cp.size, cons))
    if prev_cp is None:
        warnings.append("no checkpoint was published before this one: no consistency proof")
    keys = logkeys.verifier_keys(rt.catalog, rt.settings) or [logkeys.public_key(rt.settings)]
    bag.add_tag("custody/log-key.pub", "".join(k + "\n" for k in keys))
    return man_idx, cp


def _record(rt: Runtime, case: Row, actor: str, data: Row, n_files: int, payload_bytes: int,
            tag_sha256: str, cp_size: int, request_id: int | str | None, out: Path) -> tuple[int, int, int]:
    """The export event and row, in one transaction: durable before the bag is handed over (I5, I8)."""
    with rt.catalog.tx() as conn:
        event_id = log.record(conn, Event("export", actor, subject={"case": case["case_no"]}, data=data))
        row = conn.execute(
            "INSERT INTO exports (case_id, case_no, selection, out_path, files, bytes, tagmanifest_sha256, "
            "checkpoint_size, event_id, actor, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id",
            (case["id"], case["case_no"], json.dumps(data["selection"]), str(out), n_files, payload_bytes,
             tag_sha256, cp_size, event_id, actor, None if request_id is None else str(request_id)),
        ).fetchone()
        assert row is not None
    log.sequence(rt.catalog)
    idx = log.index_of(rt.catalog, event_id)
    return event_id, -1 if idx is None else idx, int(row["id"])


def export_case(runtime: Runtime, case_no: str, out_dir: str | os.PathLike[str], *, actor: str,
                stage: str | None = None, t_from: datetime | str | None = None, t_to: datetime | str | None = None,
                request_id: int | str | None = None) -> ExportResult:
    """Export ``case_no`` (or one ``stage``, or recordings in ``[t_from, t_to]``) as a bag at ``out_dir``.

    The caller has checked the approval. ``out_dir`` must not exist or be an empty directory. Raises
    ``CaseNotFound``, an ``ExportError`` (see ``export.errors``) or ``VerificationError`` (the store
    returned bytes that do not match the catalog digest, or a derivative contradicts its event).
    """
    if not actor:
        raise ExportSelectionInvalid("an export needs an actor")
    rt = runtime
    tf, tt = build.window(t_from, t_to)
    out = _target(out_dir)
    sel = select.load(rt, case_no, stage, tf, tt)
    selection = build.selection_doc(stage, tf, tt)
    ingest = build.ingestion_leaves(sel.events, sel.ingestion_idx)
    build.require_logged(sel.files, ingest)
    jsonl, ev_index = build.custody_record(sel.events)
    now = utcnow()
    export_doc = {"time": build.iso(now), "exporter": actor, "selection": selection, "request_id": request_id,
                  "log_size": sel.log_size, "log_origin": rt.settings.log_origin}
    paths = {f["sha256"]: f"data/{build.original_rel(f)}" for f in sel.files}
    build.refuse_unsafe_text(sel.case, actor, request_id, statement_doc(
        sel.case, sel.files, sel.links, {}, paths, ingest, sel.people, ev_index, export_doc, rt.settings.display_tz))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    warnings: list[str] = []
    try:
        bag = BagWriter(staging, tuple(dict.fromkeys(["sha256", *rt.settings.digests])))
        paths = _originals(rt, bag, sel.files)
        recs, derived_by_file = _derived(rt, bag, sel, paths, warnings)
        doc = statement_doc(sel.case, sel.files, sel.links, derived_by_file, paths, ingest, sel.people, ev_index,
                            export_doc, rt.settings.display_tz)
        _tag_files(rt, bag, doc, jsonl, ev_index, recs, sel.log_size)
        man_idx, cp = _seal(rt, bag, sel, actor, selection, request_id, now, warnings)
        tag_digests = bag.finish(build.bag_info(sel.case, actor, now, selection, request_id,
                                                (cp.origin, cp.size, cp.root_b64), man_idx))
        data = build.sealed_data(man_idx, tag_digests, selection, sel.files, len(recs), bag.payload_bytes, bag.oxum,
                                 len(sel.events), cp.size, request_id, out)
        event_id, idx, export_id = _record(rt, sel.case, actor, data, len(sel.files) + len(recs), bag.payload_bytes,
                                           tag_digests["sha256"], cp.size, request_id, out)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(path=out, files=len(sel.files) + len(recs), bytes=bag.payload_bytes,
                        originals=len(sel.files), derived=len(recs), events=len(sel.events),
                        tagmanifest_sha256=tag_digests["sha256"], event_id=event_id, event_idx=idx,
                        checkpoint_size=cp.size, export_id=export_id, warnings=warnings, manifest_event_idx=man_idx)


def authorise(runtime: Runtime, who: Principal | str, case_no: str, request_id: int, data: Row) -> Principal:
    """Check the approved export request and log the export's start (before any byte is written)."""
    principal = who if isinstance(who, Principal) else Principal(who, "cli")
    access.require_approved(runtime, request_id, principal, kind="export", case_no=case_no)
    with runtime.catalog.tx() as conn:
        c = conn.execute("SELECT unit_code FROM cases WHERE case_no = %s", (case_no,)).fetchone()
        access.record_access(
            conn, principal, "export", purpose=f"approved request {request_id}", case_no=case_no,
            case_unit=c["unit_code"] if c else None, request_id=request_id, data={"phase": "authorised", **data},
        )
    return principal


def default_out(runtime: Runtime, case_no: str, request_id: int, tag: str = "") -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in case_no)
    return runtime.settings.export_dir / f"{safe}-{stamp}-r{request_id}{tag}"


def run_export(runtime: Runtime, case_no: str, who: Principal | str, *, request_id: int,
               out_dir: Path | str | None = None, stage: str | None = None, t_from: datetime | None = None,
               t_to: datetime | None = None) -> tuple[str, ExportResult]:
    """Check the approved export request, log the export's start (before any byte is written), export."""
    principal = authorise(runtime, who, case_no, request_id, {
        "stage": stage, "t_from": t_from.isoformat() if t_from else None,
        "t_to": t_to.isoformat() if t_to else None})
    out = Path(out_dir) if out_dir is not None else default_out(runtime, case_no, request_id)
    result = export_case(runtime, case_no, out, actor=principal.name, stage=stage, t_from=t_from, t_to=t_to,
                         request_id=request_id)
    return str(out), result
