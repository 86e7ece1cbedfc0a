"""What goes into an evidence bag, computed from plain data — the pure core of an export (no I/O).

``export.select`` reads the rows, ``export.service`` streams bytes and writes the log; everything in
between is decided here: the window and selection, which ingestion and derivation leaves each file
is described by, bag paths, the custody index, the export's manifest event, ``bag-info.txt`` and the
sealed event, and the refusal of text that would break a line-oriented tag file.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.core import verifier
from liuhen.core.codec import b64
from liuhen.core.errors import InvalidRequest
from liuhen.core.text import find_controls
from liuhen.core.timefmt import as_utc, parse_utc
from liuhen.export.bag import safe_name
from liuhen.export.errors import ExportError, ExportSelectionInvalid, OriginalNotLogged, UnsafeBagText

Row = dict[str, Any]
VERIFIER_SOURCE = Path(verifier.__file__)  # the one stdlib verifier, shipped verbatim in every bag
MANIFEST_EVENT = verifier.MANIFEST_EVENT
MANIFEST_PROOF = verifier.MANIFEST_PROOF
# tag files written before the manifest event, whose SHA-256 it records (with the payload manifests)
BOUND_FILES = ("custody/events.jsonl", "custody/events-index.json", "custody/derivations.json", "statement.json",
               "statement.html", "index.html", "README.txt", "verify.py")

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


def iso(v: datetime | None) -> str | None:
    """Machine form at second precision (the bag's JSON and bag-info keep UTC)."""
    return None if v is None else as_utc(v).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(v: Any) -> datetime | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        return parse_utc(v, "time")
    except InvalidRequest:
        return None


def window(t_from: datetime | str | None, t_to: datetime | str | None) -> tuple[datetime | None, datetime | None]:
    tf, tt = parse_utc(t_from, "t_from"), parse_utc(t_to, "t_to")
    if tf and tt and tt < tf:
        raise ExportSelectionInvalid("t_to is before t_from")
    return tf, tt


def selection_doc(stage: str | None, tf: datetime | None, tt: datetime | None) -> dict[str, Any]:
    return {"stage": stage, "from": iso(tf), "to": iso(tt)}


def ingestion_leaves(events: list[Row], chosen: dict[str, int]) -> dict[str, tuple[int, Row]]:
    """``{sha256: (log index, leaf)}`` of each original's ingestion event among ``events``.

    The statement is built from these leaf bytes — what was recorded at ingest and is proven in the
    bag — never from the (editable) catalog row. ``chosen`` (``integrity.fixity``'s pick, whose
    stored leaf hash it checked) wins when that leaf is among the exported events; else the first.
    """
    out: dict[str, tuple[int, Row]] = {}
    by_idx: dict[int, Row] = {}
    for e in events:
        if e["type"] != "ingestion":
            continue
        leaf = json.loads(bytes(e["body"]))
        by_idx[int(e["idx"])] = leaf
        sha = (leaf.get("subject") or {}).get("sha256")
        if isinstance(sha, str) and sha not in out:
            out[sha] = (int(e["idx"]), leaf)
    for sha in list(out):
        li = chosen.get(sha)
        if li is not None and li in by_idx:
            out[sha] = (li, by_idx[li])
    return out


def require_logged(files: list[Row], ingest: dict[str, tuple[int, Row]]) -> None:
    """Refuse before building anything: without an ingestion event the bag could never verify."""
    missing = [f for f in files if f["sha256"] not in ingest]
    if missing:
        raise OriginalNotLogged(f"{len(missing)} original(s) have no ingestion event in the audit log: " + ", ".join(
            f"{f['original_name'] or '?'} (sha256 {f['sha256']})" for f in missing))


def original_rel(f: Row) -> str:
    """Payload path (under ``data/``) of an original: digest prefix + a portable form of its name."""
    name = f["original_name"] or f"{f['sha256']}{f['ext'] or ''}"
    return f"originals/{f['sha256'][:16]}_{safe_name(name)}"


def derived_rel(d: Row, suffix: str) -> str:
    return f"derived/{d['original_sha256'][:16]}/{d['kind']}-{d['seq']}{suffix.lower()}"


def tools(data: Row) -> Any:
    return data.get("tool") or data.get("tools") or data.get("versions")


def derivation_leaf(events_by_id: dict[int, Row], events: list[Row], d: Row) -> tuple[int, Row] | None:
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


def derived_record(d: Row, d_idx: int, d_leaf: Row, path: str, original_path: str) -> Row:
    """``custody/derivations.json`` entry: from the proven derivation event, not the catalog's recipe."""
    data = d_leaf.get("data") or {}
    return {
        "path": path, "kind": d["kind"], "seq": d["seq"], "mime": d["mime"], "size": d["size"],
        "sha256": d["sha256"], "original_sha256": d_leaf["subject"]["sha256"], "original_path": original_path,
        "argv": data.get("argv"), "tool_versions": tools(data), "recipe": data,
        "created_at": d_leaf.get("time"), "event_idx": d_idx, "event_id": d["event_id"],
    }


def custody_record(events: list[Row]) -> tuple[bytes, list[Row]]:
    """``custody/events.jsonl`` (exact leaf bytes, one per line) and its index entries."""
    lines: list[bytes] = []
    index: list[Row] = []
    for n, e in enumerate(events, 1):
        body = bytes(e["body"])
        if b"\n" in body:  # RFC 8785 JSON never holds a raw newline; refuse rather than split a leaf
            raise ExportError(f"log leaf {e['idx']} contains a newline; cannot be one JSON line")
        lines.append(body + b"\n")
        premis, code = PREMIS.get(e["type"], (e["type"], None))
        leaf = json.loads(body)
        index.append({
            "line": n, "idx": e["idx"], "event_id": e["id"], "type": leaf.get("type"), "premis_event_type": premis,
            "premis_uri": f"http://id.loc.gov/vocabulary/preservation/eventType/{code}" if code else None,
            "time": leaf.get("time"), "actor": leaf.get("actor"), "subject": leaf.get("subject"),
        })
    return b"".join(lines), index


def manifest_data(case: Row, selection: Row, request_id: int | str | None, now: datetime, oxum: str,
                  events: list[Row], digests: dict[str, str], prev: tuple[int, str] | None) -> Row:
    """The export's ``manifest`` event: binds the events, the payload manifests and the statement."""
    return {
        "phase": "manifest", "agency": case["agency"], "selection": selection, "request_id": request_id,
        "export_time": iso(now), "payload_oxum": oxum, "event_indices": [int(e["idx"]) for e in events],
        "files": digests,
        "previous_checkpoint": None if prev is None else {"size": prev[0], "root": prev[1]},
    }


def consistency_file(prev: tuple[int, str] | None, new_size: int, hashes: list[bytes]) -> str:
    """``custody/consistency``: ``liuhen.consistency@v1``, sizes, proof, blank line, old signed note."""
    if prev is None:
        return f"{verifier.CONSISTENCY_HEADER}\nold none\n"
    size, note = prev
    lines = "".join(b64(h) + "\n" for h in hashes)
    return f"{verifier.CONSISTENCY_HEADER}\nold {size}\nnew {new_size}\n{lines}\n{note}"


def bag_info(case: Row, actor: str, now: datetime, selection: Row, request_id: int | str | None,
             checkpoint: tuple[str, int, str], manifest_idx: int) -> list[tuple[str, str]]:
    origin, size, root = checkpoint
    return [
        ("Source-Organization", case["agency"]),
        ("External-Identifier", case["case_no"]),
        ("External-Description", f"{case['subject']} — 执法音视频证据 / law-enforcement AV evidence"),
        ("Bagging-Date", now.strftime("%Y-%m-%d")),
        ("Bag-Software-Agent", "liuhen export (liuhen.export)"),
        ("Contact-Name", actor),
        ("Liuhen-Case-Number", case["case_no"]),
        ("Liuhen-Agency", case["agency"]),
        ("Liuhen-Export-Time", iso(now) or ""),
        ("Liuhen-Exporter", actor),
        ("Liuhen-Selection", json.dumps(selection, ensure_ascii=False)),
        ("Liuhen-Request-Id", "" if request_id is None else str(request_id)),
        ("Liuhen-Log-Origin", origin),
        ("Liuhen-Checkpoint-Size", str(size)),
        ("Liuhen-Checkpoint-Root", root),
        ("Liuhen-Manifest-Event-Index", str(manifest_idx)),
    ]


def refuse_unsafe_text(case: Row, actor: str, request_id: int | str | None, doc: Row) -> None:
    """Every text field that reaches the bag — the case row, the exporter, the statement document —
    must be free of control characters and line breaks (``liuhen.core.text``). Refused, never
    flattened: a flattened ``bag-info.txt`` value no longer equals the logged one (the bag would
    fail its own verifier), and an unrefused newline could inject a tag line."""
    problems = find_controls({"case": {k: v for k, v in case.items() if isinstance(v, str)}, "exporter": actor,
                              "request_id": request_id, "statement": doc})
    if problems:
        raise UnsafeBagText("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
                            + " — correct the record before exporting")


def sealed_data(man_idx: int, tag_digests: dict[str, str], selection: Row, files: list[Row], n_derived: int,
                payload_bytes: int, oxum: str, n_events: int, cp_size: int, request_id: int | str | None,
                out: Path) -> Row:
    """The ``export`` event recorded with the ``exports`` row once the bag is complete."""
    data: Row = {
        "phase": "sealed", "manifest_event_idx": man_idx,
        "tagmanifest_sha256": tag_digests["sha256"], "selection": selection, "files": len(files) + n_derived,
        "originals": [f["sha256"] for f in files], "bytes": payload_bytes, "payload_oxum": oxum,
        "events": n_events, "checkpoint_size": cp_size, "request_id": request_id, "out": str(out),
    }
    if "sm3" in tag_digests:
        data["tagmanifest_sm3"] = tag_digests["sm3"]
    return data
