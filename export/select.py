"""What an export contains, read from the catalog and the log (the only database reads of an export).

``load`` returns a :class:`Selection` of plain rows; everything after it (``export.build``) is pure.
A case's linked, stored originals (optionally one stage / a recording-time range) and their
derivatives, and the audit events that concern them: events naming the case (for a partial export
only those about no file or a selected file) plus every event about a selected file or derivative that
names no other case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liuhen.cases.errors import CaseNotFound
from liuhen.catalog.stages import STAGE_LABELS
from liuhen.export.errors import ExportError, ExportSelectionInvalid, NothingToExport
from liuhen.integrity import fixity, log
from liuhen.runtime import Runtime

Row = dict[str, Any]


@dataclass(frozen=True)
class Selection:
    case: Row
    files: list[Row]  # the stored originals, by recording time
    links: dict[int, list[Row]]  # file id -> its links (with their activity columns a_*)
    derivatives: list[Row]  # derivative rows of those files, with original_sha256
    events: list[Row]  # log_events rows (id, idx, body, type, actor, created_at) below log_size, by idx
    log_size: int
    ingestion_idx: dict[str, int]  # sha256 -> the log index integrity.fixity chose as its ingestion event
    people: dict[tuple[str | None, str | None], Row]  # (device, officer_no) -> officer_name, unit_code, firmware
    stage: str | None
    t_from: datetime | None
    t_to: datetime | None

    @property
    def partial(self) -> bool:
        return bool(self.stage or self.t_from or self.t_to)


def in_window(files: list[Row], t_from: datetime | None, t_to: datetime | None) -> list[Row]:
    """The files recorded (else ingested) within ``[t_from, t_to]``; pure."""
    out = []
    for f in files:
        t = f["recorded_at"] or f["ingested_at"]
        if (t_from and t < t_from) or (t_to and t > t_to):
            continue
        out.append(f)
    return out


def _links(rt: Runtime, case_id: int, stage: str | None) -> list[Row]:
    return rt.catalog.all(
        "SELECT l.*, a.kind AS a_kind, a.starts_at AS a_starts, a.ends_at AS a_ends, a.place AS a_place, "
        "a.officers AS a_officers, a.note AS a_note, rl.label AS a_label "
        "FROM links l LEFT JOIN activities a ON a.id = l.activity_id "
        "LEFT JOIN recording_list rl ON rl.kind = a.kind "
        "WHERE l.case_id = %s AND l.unlinked_at IS NULL AND (%s::text IS NULL OR l.stage = %s) ORDER BY l.id",
        (case_id, stage, stage),
    )


def _files(rt: Runtime, ids: list[int]) -> list[Row]:
    return rt.catalog.all(
        "SELECT f.* FROM files f WHERE f.id = ANY(%s) ORDER BY coalesce(f.recorded_at, f.ingested_at), f.id", (ids,))


def _events(rt: Runtime, case_no: str, shas: list[str], size: int, partial: bool) -> list[Row]:
    return rt.catalog.all(
        "SELECT id, idx, body, type, actor, created_at FROM log_events WHERE idx IS NOT NULL AND idx < %(size)s "
        "AND ((case_no = %(case)s AND (NOT %(partial)s OR subject_sha256 IS NULL OR subject_sha256 = ANY(%(shas)s))) "
        "OR (subject_sha256 = ANY(%(shas)s) AND (case_no IS NULL OR case_no = %(case)s))) ORDER BY idx",
        {"size": size, "case": case_no, "shas": shas, "partial": partial},
    )


def _people(rt: Runtime, device: str | None, officer_no: str | None) -> Row:
    """Names and firmware for the officer and device named by an ingestion event (annotations only)."""
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


def load(rt: Runtime, case_no: str, stage: str | None, t_from: datetime | None, t_to: datetime | None) -> Selection:
    """Read everything the export needs; raise ``CaseNotFound``, ``ExportSelectionInvalid`` or
    ``NothingToExport``, or ``ExportError`` when a selected file is not stored."""
    case = rt.catalog.one("SELECT * FROM cases WHERE case_no = %s", (case_no,))
    if case is None:
        raise CaseNotFound(f"no case {case_no!r}")
    if stage is not None and stage not in STAGE_LABELS:
        raise ExportSelectionInvalid(f"unknown stage {stage!r}; one of {', '.join(STAGE_LABELS)}")
    links = _links(rt, int(case["id"]), stage)
    files = in_window(_files(rt, sorted({int(lk["file_id"]) for lk in links})), t_from, t_to)
    if not files:
        raise NothingToExport(f"case {case_no}: nothing to export for this selection (no linked stored files)")
    for f in files:
        if f["status"] != "stored":
            raise ExportError(f"linked file {f['sha256']} is {f['status']}; unlink it before exporting")
    by_file: dict[int, list[Row]] = {}
    for lk in links:
        by_file.setdefault(int(lk["file_id"]), []).append(dict(lk))
    ders = rt.catalog.all(
        "SELECT d.*, f.sha256 AS original_sha256 FROM derivatives d JOIN files f ON f.id = d.file_id "
        "WHERE d.file_id = ANY(%s) ORDER BY d.file_id, d.kind, d.seq", ([f["id"] for f in files],))
    log_size = log.sequence(rt.catalog)
    partial = bool(stage or t_from or t_to)
    shas = [f["sha256"] for f in files]
    events = _events(rt, case_no, shas + [d["sha256"] for d in ders], log_size, partial)
    chosen = {sha: fixity.ingestion_facts(rt.catalog, sha).get("log_index") for sha in shas}
    people: dict[tuple[str | None, str | None], Row] = {}
    for e in events:
        if e["type"] == "ingestion":
            data = json.loads(bytes(e["body"])).get("data") or {}
            key = (data.get("device_serial"), data.get("officer_no"))
            if key not in people:
                people[key] = _people(rt, *key)
    return Selection(dict(case), [dict(f) for f in files], by_file, [dict(d) for d in ders], events, log_size,
                     {s: i for s, i in chosen.items() if isinstance(i, int)}, people, stage, t_from, t_to)
