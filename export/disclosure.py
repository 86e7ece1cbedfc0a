"""Disclosure export: a bag of approved redacted copies for a party who may not see the originals.

``run_disclosure`` is what ``liuhen export CASE --request ID --disclosure`` and
``POST /cases/{case_no}/exports {"disclosure": true}`` call. Like an evidence export it checks the
approved export request and logs its start first, builds the bag in a staging directory, logs the
``manifest`` event, publishes a checkpoint, adds the proofs and records the ``export`` event and row
before handing the bag over (``export.service``'s sealing steps, reused). What differs is the payload:

- only ``final`` redactions (approved by a supervisor, ``liuhen.redaction.disclosure``) of files linked
  to the case — never an original, never a draft or a rendered-but-unapproved preview (asking for one
  by id is refused with ``RedactionNotApproved``);
- per copy: the copy, its exact region list and its derivation record, under ``data/redactions/<id>/``;
- the custody record holds exactly the ``redaction.draft``, ``derivation`` and ``redaction.approve``
  events of those copies, each with its proof; ``verify_redaction.py`` sits beside ``verify.py``.
The stdlib ``verify.py`` validates such a bag unchanged: it has no originals to match and no
``data/derived/`` files; everything is bound by the manifests and the proven manifest event.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from liuhen.cases.principal import Principal
from liuhen.core.timefmt import utcnow
from liuhen.export import build, select
from liuhen.export.bag import BagWriter
from liuhen.export.disclosure_doc import index_html, readme_txt, redaction_entry, statement_doc, statement_html
from liuhen.export.errors import ExportError, ExportSelectionInvalid, NothingToExport
from liuhen.export.service import ExportResult, _record, _seal, _target, authorise, default_out
from liuhen.integrity.errors import VerificationError
from liuhen.redaction import disclosure as redactions
from liuhen.runtime import Runtime

Row = dict[str, Any]
SCRIPT = redactions.SCRIPT_NAME
EVENT_KINDS = ("draft", "derivation", "approve")


def choose(rt: Runtime, sel: select.Selection, ids: Sequence[int],
           warnings: list[str]) -> list[redactions.ApprovedRedaction]:
    """The approved copies to disclose: the listed ids (each must be final and of a linked file), or
    every final redaction of every linked file (files without one are named in ``warnings``)."""
    shas = {f["sha256"] for f in sel.files}
    if ids:
        recs = [redactions.require_final(rt, int(i)) for i in dict.fromkeys(ids)]
        for r in recs:
            if r.original_sha256 not in shas:
                raise ExportSelectionInvalid(f"redaction {r.id} is of file {r.original_sha256}, which is not "
                                             f"linked to case {sel.case['case_no']}")
        return recs
    recs = []
    for f in sel.files:
        found = redactions.final_for_file(rt, f["sha256"])
        if not found:
            warnings.append(f"{f['original_name'] or f['sha256']} has no approved redaction; not disclosed")
        recs.extend(found)
    if not recs:
        raise NothingToExport(f"case {sel.case['case_no']}: no approved redaction of any linked file — only "
                              "approved redacted copies can be disclosed")
    return recs


def _leaves(rt: Runtime, recs: list[redactions.ApprovedRedaction],
            size: int) -> tuple[list[Row], dict[int, dict[str, tuple[int, Row]]]]:
    """The log rows of each copy's three events (sequenced below ``size``) and, per redaction, the leaves."""
    want = {r.id: {"draft": r.draft_event_id, "derivation": r.derivation_event_id, "approve": r.approve_event_id}
            for r in recs}
    ids = sorted({i for m in want.values() for i in m.values()})
    rows = rt.catalog.all("SELECT id, idx, body, type, actor, created_at FROM log_events "
                          "WHERE id = ANY(%s) AND idx IS NOT NULL AND idx < %s ORDER BY idx", (ids, size))
    by_id = {int(r["id"]): r for r in rows}
    out: dict[int, dict[str, tuple[int, Row]]] = {}
    for rid, m in want.items():
        missing = [k for k, i in m.items() if i not in by_id]
        if missing:
            raise ExportError(f"redaction {rid}: {', '.join(missing)} event(s) not in the sequenced audit log")
        out[rid] = {k: (int(by_id[i]["idx"]), json.loads(bytes(by_id[i]["body"]))) for k, i in m.items()}
    return rows, out


def check_binding(rec: redactions.ApprovedRedaction, leaves: dict[str, tuple[int, Row]]) -> None:
    """The catalog record must say what its proven derivation event says (copy, original, regions)."""
    idx, leaf = leaves["derivation"]
    data = leaf.get("data") or {}
    for what, want, got in (("copy sha256", (data.get("derivative") or {}).get("sha256"), rec.redacted_sha256),
                            ("original sha256", (leaf.get("subject") or {}).get("sha256"), rec.original_sha256),
                            ("regions_sha256", data.get("regions_sha256"), rec.regions_sha256)):
        if want != got:
            raise VerificationError(f"redaction {rec.id}: {what} vs its derivation event (log index {idx})",
                                    want, got)


def _payload(bag: BagWriter, rec: redactions.ApprovedRedaction, leaves: dict[str, tuple[int, Row]]) -> dict[str, str]:
    """Copy the redacted file, its region list and its derivation record (the proven event's data)."""
    files = rec.files()
    base = f"redactions/{rec.id}"
    copy_rel = next(k for k in files if k.startswith(f"{base}/redacted"))
    got = bag.add_payload_file(copy_rel, rec.path)
    if got["sha256"] != rec.redacted_sha256:
        raise VerificationError(f"redacted copy {rec.path}", rec.redacted_sha256, got["sha256"])
    regions = files[f"{base}/regions.json"]
    assert isinstance(regions, bytes)
    bag.add_payload_stream(f"{base}/regions.json", [regions])
    deriv = json.dumps(leaves["derivation"][1]["data"], sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    bag.add_payload_stream(f"{base}/derivation.json", [deriv.encode("utf-8")])
    return {"copy": f"data/{copy_rel}", "regions": f"data/{base}/regions.json",
            "derivation": f"data/{base}/derivation.json"}


def _tags(rt: Runtime, bag: BagWriter, doc: Row, jsonl: bytes, ev_index: list[Row], entries: list[Row],
          log_size: int) -> None:
    zone = rt.settings.display_tz
    bag.add_tag("custody/events.jsonl", jsonl)
    bag.add_tag("custody/events-index.json", json.dumps({"log_size": log_size, "events": ev_index},
                                                        ensure_ascii=False, indent=1) + "\n")
    bag.add_tag("custody/derivations.json", json.dumps({"derived": [], "redactions": entries}, ensure_ascii=False,
                                                       indent=1, default=str) + "\n")
    bag.add_tag("statement.json", json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    bag.add_tag("statement.html", statement_html(doc, zone))
    bag.add_tag("index.html", index_html(doc, zone))
    bag.add_tag("README.txt", readme_txt(doc, SCRIPT, zone))
    bag.add_tag("verify.py", build.VERIFIER_SOURCE.read_bytes())
    bag.add_tag(SCRIPT, redactions.bag_script())


def export_disclosure(rt: Runtime, case_no: str, out_dir: str | os.PathLike[str], *, actor: str,
                      request_id: int | str | None = None, redaction_ids: Sequence[int] = ()) -> ExportResult:
    """Write a disclosure bag of ``case_no``'s approved redacted copies at ``out_dir`` (the caller
    checked the approval). Raises ``RedactionNotApproved``/``RedactionNotFound`` for a listed id that is
    not final, ``NothingToExport`` when nothing approved exists, ``ExportError``/``VerificationError``."""
    if not actor:
        raise ExportSelectionInvalid("an export needs an actor")
    out = _target(out_dir)
    sel = select.load(rt, case_no, None, None, None)
    warnings: list[str] = []
    recs = choose(rt, sel, redaction_ids, warnings)
    rows, leaves = _leaves(rt, recs, sel.log_size)
    for r in recs:
        check_binding(r, leaves[r.id])
    sel = replace(sel, events=rows)
    selection = {**build.selection_doc(None, None, None), "disclosure": True, "redactions": [r.id for r in recs]}
    jsonl, ev_index = build.custody_record(rows)
    now = utcnow()
    export_doc = {"time": build.iso(now), "exporter": actor, "selection": selection, "request_id": request_id,
                  "log_size": sel.log_size, "log_origin": rt.settings.log_origin}
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        bag = BagWriter(staging, tuple(dict.fromkeys(["sha256", *rt.settings.digests])))
        entries = [redaction_entry(n, r, _payload(bag, r, leaves[r.id]), leaves[r.id], SCRIPT)
                   for n, r in enumerate(recs, 1)]
        doc = statement_doc(sel.case, export_doc, entries, ev_index)
        build.refuse_unsafe_text(sel.case, actor, request_id, doc)
        _tags(rt, bag, doc, jsonl, ev_index, entries, sel.log_size)
        man_idx, cp = _seal(rt, bag, sel, actor, selection, request_id, now, warnings, extra_bound=(SCRIPT,))
        info = build.bag_info(sel.case, actor, now, selection, request_id, (cp.origin, cp.size, cp.root_b64), man_idx)
        tag_digests = bag.finish([*info, ("Liuhen-Disclosure", "redacted copies only; no originals")])
        data = {**build.sealed_data(man_idx, tag_digests, selection, [], len(recs) * 3, bag.payload_bytes, bag.oxum,
                                    len(rows), cp.size, request_id, out), "disclosure": True,
                "redacted_sha256": [r.redacted_sha256 for r in recs]}
        event_id, idx, export_id = _record(rt, sel.case, actor, data, len(recs) * 3, bag.payload_bytes,
                                           tag_digests["sha256"], cp.size, request_id, out)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(path=out, files=len(recs) * 3, bytes=bag.payload_bytes, originals=0, derived=len(recs),
                        events=len(rows), tagmanifest_sha256=tag_digests["sha256"], event_id=event_id, event_idx=idx,
                        checkpoint_size=cp.size, export_id=export_id, warnings=warnings, manifest_event_idx=man_idx)


def run_disclosure(rt: Runtime, case_no: str, who: Principal | str, *, request_id: int,
                   out_dir: Path | str | None = None, redaction_ids: Sequence[int] = ()) -> tuple[str, ExportResult]:
    """Check the approved export request, log the start, write the disclosure bag."""
    principal = authorise(rt, who, case_no, request_id, {"disclosure": True, "redactions": list(redaction_ids)})
    out = Path(out_dir) if out_dir is not None else default_out(rt, case_no, request_id, "-disclosure")
    result = export_disclosure(rt, case_no, out, actor=principal.name, request_id=request_id,
                               redaction_ids=redaction_ids)
    return str(out), result
