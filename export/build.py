"""Verified export: a case (or one stage of it, or a time range) as a court-ready BagIt bag.

``export_case`` is called by the API's ``liuhen export`` command and endpoint *after* they checked
the supervisor's approval. Steps:

1. select the case's linked, stored originals (optionally one stage / a recording-time range) and
   their derivatives, and the audit events that concern them: events naming the case (for a partial
   export only those about no file or a selected file) plus every event about a selected file or
   derivative that names no other case;
2. publish a fresh signed checkpoint covering all of them (``integrity.checkpoint.publish``);
3. build the bag in a hidden staging directory next to ``out_dir``: originals streamed from the
   store (hashed while copied, checked against the catalog digest), derived files, custody record
   (events, one C2SP tlog-proof each, checkpoint, consistency proof from the previously published
   checkpoint, log key, derivation records), statement, index, README and ``verify.py``;
4. in one transaction record the ``export`` audit event (with the tag-manifest digest) and the
   ``exports`` row — the event is durable before the bag is handed over (I5, I8);
5. rename the staging directory to ``out_dir``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from liuhen.core import verifier
from liuhen.export.bag import BagWriter, safe_name
from liuhen.export.statement import (
    KIND_LABELS,
    STAGE_LABELS,
    index_html,
    production_method,
    readme_txt,
    statement_html,
    statement_json,
)
from liuhen.integrity import checkpoint, fixity, log, proof, tlogproof
from liuhen.integrity.errors import IntegrityError, VerificationError
from liuhen.integrity.events import Event
from liuhen.runtime import Runtime

VERIFIER_SOURCE = Path(verifier.__file__)  # the one stdlib verifier, shipped verbatim in every bag

# Liuhen event type -> (PREMIS-style event type, id.loc.gov preservation eventType code or None)
PREMIS = {
    "ingestion": ("ingestion", "ing"),
    "receipt": ("transfer", "tra"),
    "fixity.check": ("fixity check", "fix"),
    "derivation": ("derivation", "cre"),
    "access.view": ("access", None),
    "access.stream": ("access", None),
    "access.download": ("access", None),
    "access.request": ("access", None),
    "access.approval": ("access", None),
    "export": ("transfer", "tra"),
    "link": ("metadata modification", "mem"),
    "unlink": ("metadata modification", "mem"),
    "case.create": ("metadata modification", "mem"),
    "activity.create": ("metadata modification", "mem"),
    "stage.change": ("metadata modification", "mem"),
    "legal_review": ("appraisal", "app"),
    "retention.extend": ("policy assignment", "poa"),
    "hold.set": ("policy assignment", "poa"),
    "hold.release": ("policy assignment", "poa"),
    "disposal": ("deletion", "del"),
    "key.rotate": ("key rotation", None),
}


class ExportError(IntegrityError):
    status = 409
    title = "Export failed"


class CaseNotFound(ExportError):
    status = 404
    title = "Case not found"


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


def _utc(v: datetime | str | None, what: str) -> datetime | None:
    if v is None:
        return None
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ExportError(f"{what}: not an ISO 8601 time: {v!r}") from exc
    return (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(v: datetime | None) -> str | None:
    return None if v is None else v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ selection


def _select(rt: Runtime, case_no: str, stage: str | None, t_from: datetime | None,
            t_to: datetime | None) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    case = rt.catalog.one("SELECT * FROM cases WHERE case_no = %s", (case_no,))
    if case is None:
        raise CaseNotFound(f"no case {case_no!r}")
    if stage is not None and stage not in STAGE_LABELS:
        raise ExportError(f"unknown stage {stage!r}; one of {', '.join(STAGE_LABELS)}")
    links = rt.catalog.all(
        "SELECT l.*, a.kind AS a_kind, a.starts_at AS a_starts, a.ends_at AS a_ends, a.place AS a_place, "
        "a.officers AS a_officers, a.note AS a_note, rl.label AS a_label "
        "FROM links l LEFT JOIN activities a ON a.id = l.activity_id "
        "LEFT JOIN recording_list rl ON rl.kind = a.kind "
        "WHERE l.case_id = %s AND l.unlinked_at IS NULL AND (%s::text IS NULL OR l.stage = %s) ORDER BY l.id",
        (case["id"], stage, stage),
    )
    ids = sorted({int(lk["file_id"]) for lk in links})
    files = rt.catalog.all(
        "SELECT f.*, coalesce(r.officer_name, o.name) AS officer_name_x, r.firmware AS firmware_x, "
        "coalesce(f.unit_code, r.unit_code, o.unit_code) AS unit_code_x "
        "FROM files f LEFT JOIN recorders r ON r.device_serial = f.device_serial "
        "LEFT JOIN officers o ON o.officer_no = f.officer_no WHERE f.id = ANY(%s) ORDER BY "
        "coalesce(f.recorded_at, f.ingested_at), f.id",
        (ids,),
    )
    out = []
    for f in files:
        t = f["recorded_at"] or f["ingested_at"]
        if (t_from and t < t_from) or (t_to and t > t_to):
            continue
        if f["status"] != "stored":
            raise ExportError(f"linked file {f['sha256']} is {f['status']}; unlink it before exporting")
        out.append(dict(f))
    by_file: dict[int, list[dict[str, Any]]] = {}
    for lk in links:
        by_file.setdefault(int(lk["file_id"]), []).append(dict(lk))
    return dict(case), out, by_file


def _events(rt: Runtime, case_no: str, shas: list[str], size: int, partial: bool) -> list[dict[str, Any]]:
    return rt.catalog.all(
        "SELECT id, idx, body, type, actor, created_at FROM log_events WHERE idx IS NOT NULL AND idx < %(size)s "
        "AND ((case_no = %(case)s AND (NOT %(partial)s OR subject_sha256 IS NULL OR subject_sha256 = ANY(%(shas)s))) "
        "OR (subject_sha256 = ANY(%(shas)s) AND (case_no IS NULL OR case_no = %(case)s))) ORDER BY idx",
        {"size": size, "case": case_no, "shas": shas, "partial": partial},
    )


# ------------------------------------------------------------------ export


def _derived_source(rt: Runtime, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else Path(rt.settings.derived_dir) / p


def _algos(rt: Runtime) -> tuple[str, ...]:
    algos = tuple(dict.fromkeys(["sha256", *getattr(rt.settings, "digests", ["sha256"])]))
    return algos


def _ingestion_facts(events: list[dict[str, Any]], rt: Runtime) -> dict[str, tuple[int, dict[str, Any]]]:
    """``{sha256: (log index, leaf)}`` of each original's first ingestion event among ``events``.

    The statement is built from these leaf bytes — what was recorded at ingest and is proven in the
    bag — never from the (editable) catalog row, and the verifier cross-checks it against them.
    When ``integrity.fixity.ingestion_facts`` is available it chooses the leaf (and checks the stored
    leaf hash); the leaf used is always one shipped in ``events.jsonl``.
    """
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    by_idx: dict[int, dict[str, Any]] = {}
    for e in events:
        if e["type"] != "ingestion":
            continue
        leaf = json.loads(bytes(e["body"]))
        by_idx[int(e["idx"])] = leaf
        sha = (leaf.get("subject") or {}).get("sha256")
        if isinstance(sha, str) and sha not in out:
            out[sha] = (int(e["idx"]), leaf)
    facts_of = getattr(fixity, "ingestion_facts", None)
    if facts_of is not None:
        for sha in list(out):
            li = facts_of(rt.catalog, sha).get("log_index")
            if isinstance(li, int) and li in by_idx:
                out[sha] = (li, by_idx[li])
    return out


def _tools(data: dict[str, Any]) -> Any:
    return data.get("tool") or data.get("tools") or data.get("versions")


def _derivation_leaf(events_by_id: dict[int, dict[str, Any]], events: list[dict[str, Any]],
                     d: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The proven derivation event of derivative row ``d`` (by its event id, else by digests)."""
    cands = [events_by_id[d["event_id"]]] if d.get("event_id") in events_by_id else events
    for e in cands:
        if e["type"] != "derivation":
            continue
        leaf = json.loads(bytes(e["body"]))
        dd = (leaf.get("data") or {}).get("derivative") or {}
        if dd.get("sha256") == d["sha256"] and (leaf.get("subject") or {}).get("sha256") == d["original_sha256"]:
            return int(e["idx"]), leaf
    return None


MANIFEST_EVENT = "custody/export-manifest.json"
MANIFEST_PROOF = "custody/export-manifest.tlog-proof"
# tag files written before the manifest event, whose SHA-256 it records (with the payload manifests)
BOUND_FILES = ("custody/events.jsonl", "custody/events-index.json", "custody/derivations.json", "statement.json",
               "statement.html", "index.html", "README.txt", "verify.py")


def export_case(
    runtime: Runtime,
    case_no: str,
    out_dir: str | os.PathLike[str],
    *,
    actor: str,
    stage: str | None = None,
    t_from: datetime | str | None = None,
    t_to: datetime | str | None = None,
    request_id: int | str | None = None,
) -> ExportResult:
    """Export ``case_no`` (or one ``stage``, or recordings in ``[t_from, t_to]``) as a bag at ``out_dir``.

    The caller has checked the approval. ``out_dir`` must not exist or be an empty directory.
    Raises ``CaseNotFound``, ``ExportError`` (nothing to export, bad arguments, target not empty, an
    original without an ingestion event in the log) or ``VerificationError`` (the store returned
    bytes that do not match the catalog digest, or a derivative contradicts its derivation event).
    """
    if not actor:
        raise ExportError("an export needs an actor")
    rt = runtime
    tf, tt = _utc(t_from, "t_from"), _utc(t_to, "t_to")
    if tf and tt and tt < tf:
        raise ExportError("t_to is before t_from")
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} exists and is not an empty directory")
    case, files, links = _select(rt, case_no, stage, tf, tt)
    if not files:
        raise ExportError(f"case {case_no}: nothing to export for this selection (no linked stored files)")
    partial = bool(stage or tf or tt)
    selection = {"stage": stage, "from": _iso(tf), "to": _iso(tt)}
    algos = _algos(rt)
    shas = [f["sha256"] for f in files]
    ders = rt.catalog.all(
        "SELECT d.*, f.sha256 AS original_sha256 FROM derivatives d JOIN files f ON f.id = d.file_id "
        "WHERE d.file_id = ANY(%s) ORDER BY d.file_id, d.kind, d.seq",
        ([f["id"] for f in files],),
    )
    log_size = log.sequence(rt.catalog)
    events = _events(rt, case_no, shas + [d["sha256"] for d in ders], log_size, partial)
    ingest = _ingestion_facts(events, rt)
    missing = [f for f in files if f["sha256"] not in ingest]
    if missing:  # the bag could never verify: refuse before building anything
        raise ExportError(f"{len(missing)} original(s) have no ingestion event in the audit log: " + ", ".join(
            f"{f['original_name'] or '?'} (sha256 {f['sha256']})" for f in missing))
    events_by_id = {int(e["id"]): e for e in events}

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    warnings: list[str] = []
    try:
        bag = BagWriter(staging, algos)
        now = datetime.now(UTC)
        # ---- payload: originals, then derived
        orig_path: dict[str, str] = {}
        for f in files:
            name = safe_name(f["original_name"] or f"{f['sha256']}{f['ext'] or ''}")
            rel = f"originals/{f['sha256'][:16]}_{name}"
            got = bag.add_payload_stream(rel, rt.store.get(f["storage_key"]))
            if got["sha256"] != f["sha256"]:
                raise VerificationError(f"original {f['storage_key']}: bytes from the store", f["sha256"],
                                        got["sha256"])
            if f.get("sm3") and "sm3" in got and got["sm3"] != f["sm3"]:
                raise VerificationError(f"original {f['storage_key']}: SM3 from the store", f["sm3"], got["sm3"])
            orig_path[f["sha256"]] = f"data/{rel}"
        derived_recs: list[dict[str, Any]] = []
        derived_by_file: dict[str, list[dict[str, str]]] = {}
        for d in ders:
            what = f"derived {d['kind']} #{d['seq']} of {d['original_sha256'][:16]}"
            found = _derivation_leaf(events_by_id, events, d)
            if found is None:
                warnings.append(f"{what} has no derivation event in the log; not exported")
                continue
            d_idx, d_leaf = found
            src = _derived_source(rt, d["path"])
            if not src.is_file():
                warnings.append(f"{what} missing at {src}")
                continue
            rel = f"derived/{d['original_sha256'][:16]}/{d['kind']}-{d['seq']}{src.suffix.lower()}"
            got = bag.add_payload_file(rel, src)
            if got["sha256"] != d["sha256"]:
                raise VerificationError(f"derived file {src}", d["sha256"], got["sha256"])
            data = d_leaf.get("data") or {}
            derived_recs.append({  # from the proven derivation event, not the catalog's copy of the recipe
                "path": f"data/{rel}", "kind": d["kind"], "seq": d["seq"], "mime": d["mime"], "size": d["size"],
                "sha256": d["sha256"], "original_sha256": d_leaf["subject"]["sha256"],
                "original_path": orig_path[d["original_sha256"]],
                "argv": data.get("argv"), "tool_versions": _tools(data), "recipe": data,
                "created_at": d_leaf.get("time"), "event_idx": d_idx, "event_id": d["event_id"],
            })
            derived_by_file.setdefault(d["original_sha256"], []).append({"kind": d["kind"], "path": f"data/{rel}"})

        # ---- custody record (everything the manifest event will commit to)
        ev_lines: list[bytes] = []
        ev_index: list[dict[str, Any]] = []
        for n, e in enumerate(events, 1):
            body = bytes(e["body"])
            if b"\n" in body:
                raise ExportError(f"log leaf {e['idx']} contains a newline; cannot be one JSON line")
            ev_lines.append(body)
            premis, code = PREMIS.get(e["type"], (e["type"], None))
            leaf = json.loads(body)
            ev_index.append({
                "line": n, "idx": e["idx"], "event_id": e["id"], "type": leaf.get("type"), "premis_event_type": premis,
                "premis_uri": f"http://id.loc.gov/vocabulary/preservation/eventType/{code}" if code else None,
                "time": leaf.get("time"), "actor": leaf.get("actor"), "subject": leaf.get("subject"),
            })
        bag.add_tag("custody/events.jsonl", b"".join(b + b"\n" for b in ev_lines))
        bag.add_tag("custody/events-index.json", json.dumps(
            {"log_size": log_size, "events": ev_index}, ensure_ascii=False, indent=1) + "\n")
        bag.add_tag("custody/derivations.json", json.dumps(
            {"derived": derived_recs}, ensure_ascii=False, indent=1, default=str) + "\n")

        # ---- statement, index, readme, verifier
        doc = _statement(rt, case, files, links, derived_by_file, orig_path, ingest, ev_index, selection,
                         actor, now, log_size, request_id)
        bag.add_tag("statement.json", statement_json(doc))
        bag.add_tag("statement.html", statement_html(doc))
        bag.add_tag("index.html", index_html(doc))
        bag.add_tag("README.txt", readme_txt(doc, algos))
        bag.add_tag("verify.py", VERIFIER_SOURCE.read_bytes())
        manifests = bag.seal_payload()

        # ---- the manifest event: binds the set of events, the payload manifests and the statement
        prev = checkpoint.latest(rt.catalog)
        prev = prev if prev is not None and prev.size >= 1 else None
        mdata = {
            "phase": "manifest", "agency": case["agency"], "selection": selection, "request_id": request_id,
            "export_time": _iso(now),
            "payload_oxum": bag.oxum, "event_indices": [int(e["idx"]) for e in events],
            "files": {**{rel: bag.tag_sha256(rel) for rel in BOUND_FILES}, **manifests},
            "previous_checkpoint": None if prev is None else {"size": prev.size, "root": prev.root_b64},
        }
        _, man_idx = log.append(rt.catalog, Event("export", actor, subject={"case": case_no}, data=mdata))
        cp = checkpoint.publish(rt.catalog, rt.settings)
        if cp.size <= man_idx:  # pragma: no cover - publish() sequences first
            raise ExportError(f"checkpoint size {cp.size} does not cover the manifest event {man_idx}")
        bag.add_tag(MANIFEST_EVENT, log.leaf(rt.catalog, man_idx).body + b"\n")
        bag.add_tag(MANIFEST_PROOF, tlogproof.for_event(rt.catalog, man_idx, cp))
        for e in events:
            bag.add_tag(f"custody/proofs/{e['idx']}.tlog-proof", tlogproof.for_event(rt.catalog, e["idx"], cp))
        bag.add_tag("custody/checkpoint", cp.note)
        if prev is not None:
            cons = _b64_lines(proof.consistency_proof(rt.catalog, prev.size, cp.size))
            bag.add_tag("custody/consistency",
                        f"liuhen.consistency@v1\nold {prev.size}\nnew {cp.size}\n{cons}\n{prev.note}")
        else:
            bag.add_tag("custody/consistency", "liuhen.consistency@v1\nold none\n")
            warnings.append("no checkpoint was published before this one: no consistency proof")
        keys = checkpoint.verifier_keys(rt.catalog, rt.settings) or [checkpoint.public_key(rt.settings)]
        bag.add_tag("custody/log-key.pub", "".join(k + "\n" for k in keys))
        info = [
            ("Source-Organization", case["agency"]),
            ("External-Identifier", case_no),
            ("External-Description", f"{case['subject']} — 执法音视频证据 / law-enforcement AV evidence"),
            ("Bagging-Date", now.strftime("%Y-%m-%d")),
            ("Bag-Software-Agent", "liuhen export (integrity.export)"),
            ("Contact-Name", actor),
            ("Liuhen-Case-Number", case_no),
            ("Liuhen-Agency", case["agency"]),
            ("Liuhen-Export-Time", _iso(now) or ""),
            ("Liuhen-Exporter", actor),
            ("Liuhen-Selection", json.dumps(selection, ensure_ascii=False)),
            ("Liuhen-Request-Id", "" if request_id is None else str(request_id)),
            ("Liuhen-Log-Origin", cp.origin),
            ("Liuhen-Checkpoint-Size", str(cp.size)),
            ("Liuhen-Checkpoint-Root", cp.root_b64),
            ("Liuhen-Manifest-Event-Index", str(man_idx)),
        ]
        tag_digests = bag.finish(info)
        n_orig = len(files)
        n_der = len(derived_recs)

        # ---- the export event and row: durable before the bag is handed over (I5, I8)
        data = {
            "phase": "sealed", "manifest_event_idx": man_idx,
            "tagmanifest_sha256": tag_digests["sha256"], "selection": selection, "files": n_orig + n_der,
            "originals": shas, "bytes": bag.payload_bytes, "payload_oxum": bag.oxum, "events": len(events),
            "checkpoint_size": cp.size, "request_id": request_id, "out": str(out),
        }
        if "sm3" in tag_digests:
            data["tagmanifest_sm3"] = tag_digests["sm3"]
        with rt.catalog.tx() as conn:
            event_id = log.record(conn, Event("export", actor, subject={"case": case_no}, data=data))
            row = conn.execute(
                "INSERT INTO exports (case_id, case_no, selection, out_path, files, bytes, tagmanifest_sha256, "
                "checkpoint_size, event_id, actor, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                (case["id"], case_no, json.dumps(selection), str(out), n_orig + n_der, bag.payload_bytes,
                 tag_digests["sha256"], cp.size, event_id, actor, None if request_id is None else str(request_id)),
            ).fetchone()
            assert row is not None
        log.sequence(rt.catalog)
        idx = log.index_of(rt.catalog, event_id)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(
        path=out, files=n_orig + n_der, bytes=bag.payload_bytes, originals=n_orig, derived=n_der,
        events=len(events), tagmanifest_sha256=tag_digests["sha256"], event_id=event_id,
        event_idx=-1 if idx is None else idx, checkpoint_size=cp.size, export_id=int(row["id"]), warnings=warnings,
        manifest_event_idx=man_idx,
    )


def _b64_lines(hashes: list[bytes]) -> str:
    return "".join(base64.b64encode(h).decode() + "\n" for h in hashes)


def _parse_time(v: Any) -> datetime | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        return _utc(v, "time")
    except ExportError:
        return None


def _people(rt: Runtime, device: str | None, officer_no: str | None) -> dict[str, Any]:
    """Names and firmware for the officer and device named by the ingestion event (annotations only)."""
    r = rt.catalog.one("SELECT officer_no, officer_name, unit_code, firmware FROM recorders WHERE device_serial = %s",
                       (device,)) if device else None
    o = rt.catalog.one("SELECT name, unit_code FROM officers WHERE officer_no = %s", (officer_no,)) \
        if officer_no else None
    same = r is not None and r["officer_no"] in (None, officer_no)
    return {
        "officer_name": (o or {}).get("name") or (r["officer_name"] if same and r else None),
        "unit_code": (r or {}).get("unit_code") or (o or {}).get("unit_code"),
        "firmware": (r or {}).get("firmware"),
    }


def _statement(rt: Runtime, case: dict[str, Any], files: list[dict[str, Any]],
               links: dict[int, list[dict[str, Any]]], derived: dict[str, list[dict[str, str]]],
               paths: dict[str, str], ingest: dict[str, tuple[int, dict[str, Any]]],
               ev_index: list[dict[str, Any]], selection: dict[str, Any], actor: str, now: datetime,
               log_size: int, request_id: int | str | None) -> dict[str, Any]:
    """The statement document. Producer, production time, size and digests come from each original's
    ingestion event (the leaf in the bag); only names, firmware and duration are catalog annotations."""
    items = []
    for n, f in enumerate(files, 1):
        idx, leaf = ingest[f["sha256"]]
        facts = leaf.get("data") or {}
        device, officer_no = facts.get("device_serial"), facts.get("officer_no")
        ppl = _people(rt, device, officer_no)
        start = _parse_time(facts.get("recorded_at"))
        end = start + timedelta(seconds=f["duration_s"]) if start and f["duration_s"] else start
        ingested_at = _iso(_parse_time(leaf.get("time")))
        lks = []
        for lk in links.get(int(f["id"]), []):
            act = None
            if lk.get("activity_id"):
                act = {"id": lk["activity_id"], "kind": lk["a_kind"], "kind_label": lk.get("a_label"),
                       "starts_at": _iso(lk["a_starts"]), "ends_at": _iso(lk["a_ends"]), "place": lk["a_place"],
                       "officers": lk["a_officers"], "note": lk["a_note"]}
            lks.append({"link_id": lk["id"], "stage": lk["stage"], "stage_label": STAGE_LABELS.get(lk["stage"]),
                        "activity": act, "t_start_s": lk["t_start_s"], "t_end_s": lk["t_end_s"],
                        "proves": lk["proves"], "linked_by": lk["linked_by"], "linked_at": _iso(lk["linked_at"])})
        items.append({
            "item": n,
            "path": paths[f["sha256"]],
            "original_name": f["original_name"],
            "sha256": f["sha256"],
            "sm3": facts.get("sm3", f["sm3"]),
            "size": facts.get("size", f["size"]),
            "media_kind": f["media_kind"],
            "media_kind_label": KIND_LABELS.get(f["media_kind"]),
            "production_method": production_method(f["media_kind"], device, ingested_at or "", f["sha256"]),
            "production_time": {"start": _iso(start), "end": _iso(end), "duration_s": f["duration_s"]},
            "producer": {"officer_no": officer_no, "officer_name": ppl["officer_name"],
                         "unit_code": facts.get("unit_code") or ppl["unit_code"], "device_serial": device,
                         "device_firmware": ppl["firmware"]},
            "proves": [lk["proves"] for lk in lks if lk["proves"]],
            "links": lks,
            "ingestion": {"ingested_at": ingested_at, "log_index": idx},
            "derived": derived.get(f["sha256"], []),
        })
    return {
        "format": "liuhen.statement@v2",
        "basis": "最高人民法院关于行政诉讼证据若干问题的规定 第十二条："
                 "视听资料应注明制作方法、制作时间、制作人和证明对象",
        "sources": "producer (officer_no, device_serial, unit_code), production_time.start, size, sm3 and "
                   "ingestion are taken from each original's ingestion event (custody/events.jsonl line at "
                   "ingestion.log_index) and checked by verify.py; officer_name, device_firmware and "
                   "duration_s are catalog annotations",
        "case": {"case_no": case["case_no"], "agency": case["agency"], "unit_code": case["unit_code"],
                 "subject": case["subject"], "case_type": case["case_type"], "major": case["major"],
                 "stage": case["stage"], "created_at": _iso(case["created_at"])},
        "export": {"time": _iso(now), "exporter": actor, "selection": selection, "request_id": request_id,
                   "log_size": log_size, "log_origin": rt.settings.log_origin},
        "items": items,
        "custody": {"events": ev_index},
    }
