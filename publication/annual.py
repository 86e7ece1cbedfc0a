"""The annual statistics report (行政执法统计年报): compute at a signed checkpoint, write, verify.

``make_report`` publishes a checkpoint first and computes every figure from the log prefix it signs
(``annual_log``) and from the catalog as of its time (``annual_catalog``); ``figures.json`` states the
checkpoint (origin, size, root, note, time). ``verify_report`` checks that note's signature with the
log's trusted keys, that the log still has that root at that size, recomputes every figure with the
same size and time, and names each figure of each file that differs.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from liuhen.cases.access import record_event
from liuhen.core.timefmt import utc_iso
from liuhen.integrity import checkpoint
from liuhen.integrity import keys as logkeys
from liuhen.integrity import log as auditlog
from liuhen.integrity.errors import VerificationError
from liuhen.publication import annual_catalog, annual_log
from liuhen.publication.errors import ReportFiguresInvalid
from liuhen.publication.figures import Figure, FiguresDoc, loads
from liuhen.publication.report_files import compare_report, write_report
from liuhen.runtime import Runtime


def compute(rt: Runtime, year: int, size: int, as_of: datetime) -> list[Figure]:
    """Every figure of ``year`` from leaves ``[0, size)`` and the catalog as of ``as_of``."""
    with rt.catalog.tx() as conn:
        evs = annual_log.read_events(conn, size)
        return [
            *annual_log.case_figures(evs, year),
            *annual_log.publication_figures(evs, year),
            *annual_catalog.recording_figures(conn, year, as_of, rt.settings.late_upload_hours),
            *annual_catalog.coverage_figures(conn, year, as_of),
            *annual_log.oversight_figures(evs, year),
        ]


def figures_now(rt: Runtime, year: int) -> FiguresDoc:
    """Publish a checkpoint and compute the year's figures at it."""
    if not 2000 <= year <= 2199:
        raise ReportFiguresInvalid(f"year {year} is out of range")
    cp = checkpoint.publish(rt.catalog, rt.settings)
    assert cp.created_at is not None
    cpd = {"origin": cp.origin, "size": cp.size, "root": cp.root_b64, "note": cp.note,
           "as_of": utc_iso(cp.created_at)}
    return FiguresDoc(year, utc_iso(cp.created_at), cpd, tuple(compute(rt, year, cp.size, cp.created_at)))


def make_report(rt: Runtime, year: int, out: Path, actor: str) -> FiguresDoc:
    """Compute the figures at a fresh checkpoint, write the four files, log ``report.annual``."""
    doc = figures_now(rt, year)
    cp = doc.checkpoint
    write_report(doc, out)
    digest = hashlib.sha256((out / "figures.json").read_bytes()).hexdigest()
    with rt.catalog.tx() as conn:
        record_event(conn, "report.annual", actor, data={
            "year": year, "checkpoint_size": cp["size"], "figures_sha256": digest, "out": str(out)})
    return doc


def _checkpoint(rt: Runtime, cp: dict[str, Any]) -> tuple[int, datetime]:
    note = cp.get("note")
    if not isinstance(note, str) or not isinstance(cp.get("as_of"), str):
        raise ReportFiguresInvalid("figures.json: checkpoint needs the signed note and as_of")
    try:
        body = checkpoint.verify_note(note, logkeys.verifier_keys(rt.catalog, rt.settings)
                                      or [logkeys.public_key(rt.settings)])
    except VerificationError as exc:
        raise ReportFiguresInvalid(f"figures.json: checkpoint signature: {exc}") from exc
    if body.size != cp.get("size") or body.origin != cp.get("origin"):
        raise ReportFiguresInvalid(
            f"figures.json: checkpoint states size {cp.get('size')} / origin {cp.get('origin')}, "
            f"its signed note says {body.size} / {body.origin}")
    if auditlog.size(rt.catalog) < body.size or auditlog.root(rt.catalog, body.size) != body.root:
        raise ReportFiguresInvalid(f"the audit log no longer has the signed root at size {body.size}")
    return body.size, datetime.fromisoformat(cp["as_of"].replace("Z", "+00:00"))


def verify_report(rt: Runtime, out: Path) -> dict[str, Any]:
    """Recompute every figure and compare with each file; ``ReportFiguresInvalid`` names every difference."""
    path = out / "figures.json"
    if not path.is_file():
        raise ReportFiguresInvalid(f"{out}: no figures.json (not a report directory?)")
    doc = loads(path.read_text("utf-8"))
    size, as_of = _checkpoint(rt, doc.checkpoint)
    recomputed = FiguresDoc(doc.year, doc.computed_at, doc.checkpoint, tuple(compute(rt, doc.year, size, as_of)))
    problems = compare_report(recomputed.flat(), out)
    if problems:
        raise ReportFiguresInvalid(f"report {out} does not match the log and catalog: " + "; ".join(problems))
    return {"year": doc.year, "checkpoint_size": size, "figures": len(recomputed.flat()), "files": 4}
