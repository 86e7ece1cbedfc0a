"""The human- and machine-readable parts of a disclosure bag (pure: plain data in, text out).

A disclosure bag carries approved redacted copies — never originals — for a party who may not see
the originals. ``statement.json`` keeps the evidence bag's shape (``items`` lists originals in the
payload: none here, so the stdlib ``verify.py`` has nothing to match) and adds ``redactions``: for
each copy its path, digest, region list, derivation record and the log indices of the three events
that make it a reviewed derivative (``redaction.draft``, ``derivation``, ``redaction.approve``).
"""

from __future__ import annotations

import json
from typing import Any

from liuhen.catalog.stages import STAGE_LABELS
from liuhen.core.timefmt import DEFAULT_ZONE
from liuhen.export.build import iso
from liuhen.export.statement import _e, _head, _t

Row = dict[str, Any]
FORMAT = "liuhen.disclosure@v1"
NOTICE = ("本包仅含经审核批准的遮蔽副本，不含原始文件 / This package holds approved redacted copies only; "
          "it does not contain the original recordings.")


def check_command(rel: dict[str, str], original_sha256: str, script: str) -> str:
    return (f"python3 {script} ORIGINAL {rel['copy']} {rel['regions']}   "
            f"# ORIGINAL: the file with SHA-256 {original_sha256}, from the agency")


def redaction_entry(n: int, rec: Any, rel: dict[str, str], leaves: dict[str, tuple[int, Row]],
                    script: str) -> Row:
    """``statement.json`` / ``custody/derivations.json`` entry of one approved copy (``rec`` is an
    ``ApprovedRedaction``; ``leaves`` maps draft/derivation/approve to (log index, leaf))."""
    deriv = leaves["derivation"][1]
    return {
        "item": n, "redaction_id": rec.id, "path": rel["copy"], "sha256": rec.redacted_sha256, "size": rec.size,
        "mime": rec.mime, "regions_path": rel["regions"], "regions_sha256": rec.regions_sha256,
        "derivation_path": rel["derivation"], "original_sha256": deriv["subject"]["sha256"],
        "regions": len(rec.regions.get("regions", [])), "audio_ranges": len(rec.regions.get("audio", [])),
        "drafted_by": leaves["draft"][1].get("actor"), "approved_by": leaves["approve"][1].get("actor"),
        "approved_at": leaves["approve"][1].get("time"),
        "events": {k: idx for k, (idx, _leaf) in leaves.items()},
        "check": check_command(rel, deriv["subject"]["sha256"], script),
    }


def statement_doc(case: Row, export: Row, entries: list[Row], ev_index: list[Row]) -> Row:
    return {
        "format": FORMAT,
        "notice": NOTICE,
        "sources": "each redaction's digest, original digest and region-list digest are those of its derivation "
                   "event (custody/events.jsonl line at events.derivation), proven in the signed log",
        "case": {"case_no": case["case_no"], "agency": case["agency"], "unit_code": case["unit_code"],
                 "subject": case["subject"], "case_type": case["case_type"], "stage": case["stage"],
                 "created_at": iso(case["created_at"])},
        "export": export,
        "items": [],  # originals in the payload: none in a disclosure bag
        "redactions": entries,
        "custody": {"events": ev_index},
    }


def _case_line(doc: Row, zone: str) -> str:
    c, e = doc["case"], doc["export"]
    return (f"<p>案号 Case: <b>{_e(c['case_no'])}</b> · 机关 Agency: {_e(c['agency'])} · "
            f"阶段 Stage: {_e(STAGE_LABELS.get(c['stage'], c['stage']))}</p>"
            f"<p class=d>导出时间 Exported {_e(_t(e['time'], zone))} by {_e(e['exporter'])} · "
            f"日志 Audit log: events up to index {_e(e['log_size'])}</p>\n<p><b>{_e(NOTICE)}</b></p>\n")


def statement_html(doc: Row, zone: str = DEFAULT_ZONE) -> str:
    rows = "\n".join(
        f"<tr><td>{r['item']}</td><td><a href=\"{_e(r['path'])}\">{_e(r['path'])}</a><br>"
        f"<code>SHA-256 {_e(r['sha256'])}</code></td><td><code>{_e(r['original_sha256'])}</code></td>"
        f"<td>{_e(r['regions'])} regions, {_e(r['audio_ranges'])} audio ranges<br>"
        f"<a href=\"{_e(r['regions_path'])}\">regions.json</a> · "
        f"<a href=\"{_e(r['derivation_path'])}\">derivation.json</a></td>"
        f"<td>{_e(r['drafted_by'])} / {_e(r['approved_by'])}<br>{_e(_t(r['approved_at'], zone))}</td>"
        f"<td>{_e(json.dumps(r['events']))}</td></tr>"
        for r in doc["redactions"])
    return (_head(f"遮蔽副本说明 {doc['case']['case_no']}")
            + "<h1>遮蔽副本说明 / Statement on redacted copies</h1>\n" + _case_line(doc, zone)
            + "<table><tr><th>#</th><th>遮蔽副本 Redacted copy</th><th>原始文件 SHA-256 (not included)</th>"
            "<th>遮蔽区域 Regions</th><th>起草 / 批准 Drafted / approved</th><th>log indices</th></tr>\n"
            + rows + "\n</table>\n<p class=d>核验方法见 README.txt / see README.txt for how to check.</p>\n"
            "</body></html>\n")


def index_html(doc: Row, zone: str = DEFAULT_ZONE) -> str:
    evs = "".join(f"<tr><td>{e['idx']}</td><td>{_e(_t(e['time'], zone))}</td><td>{_e(e['type'])}</td>"
                  f"<td>{_e(e['actor'])}</td></tr>" for e in doc["custody"]["events"])
    return (_head(f"披露包 {doc['case']['case_no']}")
            + f"<h1>遮蔽副本披露包 / Disclosure package {_e(doc['case']['case_no'])}</h1>\n" + _case_line(doc, zone)
            + "<p><a href=\"statement.html\">statement.html</a> · <a href=\"README.txt\">README.txt</a></p>\n"
            "<h2>保管链 Chain of custody</h2><table><tr><th>log index</th><th>time</th><th>type</th><th>actor</th>"
            "</tr>\n" + evs + "</table>\n</body></html>\n")


def readme_txt(doc: Row, script: str, zone: str = DEFAULT_ZONE) -> str:
    c, e = doc["case"], doc["export"]
    checks = "\n".join(f"       {r['check']}" for r in doc["redactions"])
    return f"""LIUHEN DISCLOSURE PACKAGE — 遮蔽副本披露包
Case 案号: {c['case_no']}    Agency 机关: {c['agency']}
Exported 导出: {_t(e['time'], zone)} by {e['exporter']}    Audit-log events up to index: {e['log_size']}

{NOTICE}
Faces, bystanders and spoken details were hidden in copies of the recordings; a supervisor other
than the person who drafted each redaction approved it. The originals stay with the agency.

This is a BagIt bag (RFC 8493). Layout:
  data/redactions/<id>/redacted.mp4|jpg   the approved redacted copy
  data/redactions/<id>/regions.json       the exact region list applied (what was hidden, where, when)
  data/redactions/<id>/derivation.json    its derivation record: original's SHA-256, detector model and
                                          SHA-256, every parameter, ffmpeg argv, tool versions
  statement.json/.html   one entry per copy, with the log indices of its three events
  custody/events.jsonl   the redaction.draft, derivation and redaction.approve audit events (exact log
                         leaf bytes), each proven by custody/proofs/N.tlog-proof against the signed
                         checkpoint custody/checkpoint
  verify.py              checks the bag itself (Python 3.9+, standard library only)
  {script:<22} checks a redacted copy against its original (Python 3.11+, numpy, ffmpeg)

HOW TO CHECK

1. The package is complete and its events are in the agency's signed log:
       python3 verify.py .          # or: sha256sum -c tagmanifest-sha256.txt && sha256sum -c manifest-sha256.txt
   "VERDICT: VALID" and exit status 0 only if every file matches its manifest and every event is
   proven. Pin the agency's published log key with --trusted-key '<key>'.
   The derivation event (custody/events.jsonl) names the copy's SHA-256, the original's SHA-256 and
   the region list's SHA-256 (sha256sum data/redactions/<id>/regions.json must print it).

2. The redaction hides what it claims and changes nothing else. This needs the ORIGINAL recording,
   which this package does not contain: obtain it from the agency (or have the agency, a court or
   an expert run the check), confirm `sha256sum ORIGINAL` prints the original_sha256 above, then:
{checks}
   Requirements: Python >= 3.11 with numpy (pip install numpy) and an ffmpeg binary on PATH (or
   --ffmpeg /path/to/ffmpeg). It decodes both files frame by frame and reports: outside the regions
   every 16x16 tile matches the original (PSNR >= 22 dB), inside them the picture is changed
   (SSIM <= 0.5), frame counts match, audio outside muted ranges matches, muted ranges are silent
   (< -60 dBFS). Exit 0 = holds; 1 = a check failed (the frame and region are named); 2 = bad input.

The SHA-256 of tagmanifest-sha256.txt is recorded in the agency's audit log as the "export" event of
this package; ask the agency for that log entry to confirm this is the package it issued.
"""
