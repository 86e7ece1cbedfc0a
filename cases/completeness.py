"""Completeness report for a case: is the AV record of every activity there, and whole?

For each activity: the linked footage segments (links to the activity, plus stage-level links in the
same stage that overlap it), each segment's wall-clock span (``files.recorded_at`` + the link's
``t_start_s``..``t_end_s``, default the whole clip via ``files.duration_s``), and the coverage gaps
(activity span minus the union of segment spans). Findings:

- ``missing_av`` (error): a full-AV activity (全程音像记录) with no linked footage;
- ``no_av`` (info): an as-needed activity with none;
- ``coverage_gap`` (error for full-AV, warning otherwise): a stretch of the activity no footage covers,
  e.g. a recorder stopped mid-activity;
- ``late_upload`` (warning): stored more than ``Settings.late_upload_hours`` after recording (24 h rule);
- ``clock_drift`` (warning): the file or its offload flagged a device clock off, or a recording time
  later than its ingest time by more than ``Settings.clock_drift_tolerance_s``;
  (both rules are ``ingest.flags``, the same functions offload flags files with)
- ``unknown_duration`` (warning): a clip whose duration is unknown, so its span cannot be placed;
- ``officer_not_listed`` (info): footage from an officer not listed on the activity.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from liuhen.cases.rows import case_row as _case_row
from liuhen.catalog.stages import STAGE_LABELS
from liuhen.core.config import Settings
from liuhen.ingest import flags
from liuhen.runtime import Runtime

MIN_GAP_S = 1.0  # gaps shorter than this are keyframe/rounding noise, not missing footage
UNKNOWN_DURATION = "recording time or duration unknown; the segment cannot be placed"
Span = tuple[datetime, datetime]


def _duration(f: dict[str, Any]) -> float | None:
    if f.get("duration_s") is not None:
        return float(f["duration_s"])
    info = f.get("media_info") or {}
    for k in ("duration_s", "duration"):
        v = info.get(k) if isinstance(info, dict) else None
        if isinstance(v, int | float):
            return float(v)
    return None


def _span(seg: dict[str, Any]) -> Span | None:
    if seg["recorded_at"] is None:
        return None
    dur = _duration(seg)
    t0 = seg["t_start_s"] or 0.0
    t1 = seg["t_end_s"] if seg["t_end_s"] is not None else dur
    if t1 is None:
        return None
    if dur is not None:
        t1 = min(t1, dur)
    base: datetime = seg["recorded_at"]
    return base + timedelta(seconds=t0), base + timedelta(seconds=max(t0, t1))


def gaps(span: tuple[datetime, datetime], covered: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """``span`` minus the union of ``covered`` (pure; gaps under ``MIN_GAP_S`` dropped)."""
    a0, a1 = span
    out: list[tuple[datetime, datetime]] = []
    cursor = a0
    for s0, s1 in sorted(covered):
        if s1 <= cursor:
            continue
        if s0 > cursor:
            out.append((cursor, min(s0, a1)))
        cursor = max(cursor, s1)
        if cursor >= a1:
            break
    if cursor < a1:
        out.append((cursor, a1))
    return [(g0, g1) for g0, g1 in out if g1 > g0 and (g1 - g0).total_seconds() >= MIN_GAP_S]


@dataclass(frozen=True)
class Policy:
    """The thresholds the findings depend on (from ``Settings``)."""

    late_upload_hours: float = 24.0
    clock_drift_tolerance_s: float = 120.0

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        return cls(late_upload_hours=s.late_upload_hours, clock_drift_tolerance_s=s.clock_drift_tolerance_s)


@dataclass
class Evaluation:
    findings: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    segments: list[dict[str, Any]]


def _file_finding(kind: str, seg: dict[str, Any], message: str) -> dict[str, Any]:
    return {"kind": kind, "severity": "warning", "file_id": seg["file_id"], "sha256": seg["sha256"], "message": message}


def _segment_findings(seg: dict[str, Any], span: Span | None, policy: Policy) -> list[dict[str, Any]]:
    """unknown_duration, late_upload and clock_drift of one linked file (the ``ingest.flags`` rules)."""
    out: list[dict[str, Any]] = []
    if span is None:
        out.append(_file_finding("unknown_duration", seg, UNKNOWN_DURATION))
    rec, ing = seg["recorded_at"], seg["ingested_at"]
    late = flags.late_upload(rec, ing, policy.late_upload_hours)
    if late:
        out.append(_file_finding("late_upload", seg, late))
    drift = flags.drift_flags([*(seg["flags"] or []), *(seg["session_flags"] or [])])
    ahead = flags.clock_ahead(rec, ing, policy.clock_drift_tolerance_s)
    if drift or ahead:
        msg = f"flags {drift}" if drift else str(ahead)
        out.append(_file_finding("clock_drift", seg, f"device clock suspect: {msg}"))
    return out


def _segment_row(seg: dict[str, Any], span: Span | None) -> dict[str, Any]:
    return {
        **{k: seg[k] for k in ("link_id", "file_id", "sha256", "stage", "activity_id", "officer_no")},
        "officer_name": seg["officer_name"],
        "device_serial": seg["device_serial"],
        "starts_at": span[0] if span else None,
        "ends_at": span[1] if span else None,
        "proves": seg["proves"],
    }


def _covers(a: dict[str, Any], seg: dict[str, Any], sp: Span | None) -> bool:
    """Linked to the activity, or a stage-level link in its stage overlapping its span."""
    if seg["activity_id"] == a["id"]:
        return True
    return (
        seg["activity_id"] is None
        and seg["stage"] == a["stage"]
        and sp is not None
        and sp[0] < a["ends_at"]
        and sp[1] > a["starts_at"]
    )


def _activity_findings(
    a: dict[str, Any], mine: list[tuple[dict[str, Any], Span | None]], g: list[Span]
) -> list[dict[str, Any]]:
    needs = a["recording"]
    base = {"activity_id": a["id"], "stage": a["stage"], "activity_kind": a["kind"]}
    out: list[dict[str, Any]] = []
    if not mine and needs == "full_av":
        msg = f"{a['kind']} requires full AV recording (全程音像记录); no footage linked"
        out.append({**base, "kind": "missing_av", "severity": "error", "message": msg})
    elif not mine and needs == "av_as_needed":
        msg = f"{a['kind']}: AV recording as circumstances require; none linked"
        out.append({**base, "kind": "no_av", "severity": "info", "message": msg})
    elif mine and needs != "text":
        for g0, g1 in g:
            secs = (g1 - g0).total_seconds()
            out.append(
                {
                    **base,
                    "kind": "coverage_gap",
                    "severity": "error" if needs == "full_av" else "warning",
                    "starts_at": g0,
                    "ends_at": g1,
                    "seconds": secs,
                    "message": f"no footage covers {secs:.0f} s of {a['kind']}",
                }
            )
    listed = set(a["officers"] or [])
    for seg, _ in mine:
        if listed and seg["officer_no"] and seg["officer_no"] not in listed:
            out.append(
                {
                    **base,
                    "kind": "officer_not_listed",
                    "severity": "info",
                    "file_id": seg["file_id"],
                    "sha256": seg["sha256"],
                    "message": f"footage by officer {seg['officer_no']} not listed on the activity",
                }
            )
    return out


def _activity_row(a: dict[str, Any], mine: list[tuple[dict[str, Any], Span | None]], g: list[Span]) -> dict[str, Any]:
    total = max((a["ends_at"] - a["starts_at"]).total_seconds(), 0.0)
    missing = sum((g1 - g0).total_seconds() for g0, g1 in g)
    return {
        **{k: a[k] for k in ("id", "stage", "kind", "recording", "starts_at", "ends_at", "place")},
        "officers": list(a["officers"] or []),
        "linked_segments": [seg["link_id"] for seg, _ in mine],
        "covered_s": total - missing if mine else 0.0,
        "span_s": total,
        "gaps": [{"starts_at": g0, "ends_at": g1} for g0, g1 in g] if mine else [],
    }


def evaluate(segments: list[dict[str, Any]], activities: list[dict[str, Any]], policy: Policy) -> Evaluation:
    """The completeness findings of linked footage against a case's activities (pure: rows in, findings out).

    ``segments``: one row per active link with its file's columns (see ``_SEGMENTS``); ``activities``:
    the case's ``activities`` rows. File findings come first (once per file), then per activity.
    """
    findings: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    spans = [(seg, _span(seg)) for seg in segments]
    for seg, sp in spans:
        for f in _segment_findings(seg, sp, policy):
            if (f["kind"], seg["file_id"]) not in seen:
                seen.add((f["kind"], seg["file_id"]))
                findings.append(f)
    rows: list[dict[str, Any]] = []
    for a in activities:
        mine = [(seg, sp) for seg, sp in spans if _covers(a, seg, sp)]
        g = gaps((a["starts_at"], a["ends_at"]), [sp for _, sp in mine if sp is not None])
        findings += _activity_findings(a, mine, g)
        rows.append(_activity_row(a, mine, g))
    return Evaluation(findings, rows, [_segment_row(seg, sp) for seg, sp in spans])


_SEGMENTS = """SELECT l.id AS link_id, l.stage, l.activity_id, l.t_start_s, l.t_end_s, l.proves,
          f.id AS file_id, f.sha256, f.recorded_at, f.ingested_at, f.duration_s, f.media_info,
          f.device_serial, f.officer_no, f.unit_code, f.flags, f.media_kind,
          coalesce(o.name, r.officer_name) AS officer_name,
          (SELECT coalesce(array_agg(DISTINCT fl), '{}') FROM session_files sf,
                  unnest(sf.flags) fl WHERE sf.file_id = f.id) AS session_flags
   FROM links l JOIN files f ON f.id = l.file_id
   LEFT JOIN officers o ON o.officer_no = f.officer_no
   LEFT JOIN recorders r ON r.device_serial = f.device_serial
   WHERE l.case_id = %s AND l.unlinked_at IS NULL ORDER BY f.recorded_at NULLS LAST, l.id"""


def report(runtime: Runtime, case_no: str) -> dict[str, Any]:
    """Load the case's activities and linked segments, ``evaluate`` them, and summarise."""
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        acts = conn.execute(
            "SELECT * FROM activities WHERE case_id = %s ORDER BY starts_at, id", (case["id"],)
        ).fetchall()
        segs = conn.execute(_SEGMENTS, (case["id"],)).fetchall()
    ev = evaluate(segs, acts, Policy.from_settings(runtime.settings))
    errors = sum(1 for f in ev.findings if f["severity"] == "error")
    return {
        "case_no": case_no,
        "stage": case["stage"],
        "major": case["major"],
        "complete": errors == 0,
        "errors": errors,
        "warnings": sum(1 for f in ev.findings if f["severity"] == "warning"),
        "activities": ev.activities,
        "findings": ev.findings,
        "segments": ev.segments,
    }


def _t(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else ("" if v is None else str(v))


def render_html(rep: dict[str, Any]) -> str:
    """A readable, self-contained HTML page of a completeness report (all values escaped)."""
    e = html.escape
    verdict = "完整 complete" if rep["complete"] else f"不完整 incomplete — {rep['errors']} error(s)"
    rows_f = "".join(
        f"<tr class='{e(f['severity'])}'><td>{e(f['severity'])}</td><td>{e(f['kind'])}</td>"
        f"<td>{e(str(f.get('activity_id', '')))}</td><td>{e(_t(f.get('starts_at')))}</td>"
        f"<td>{e(_t(f.get('ends_at')))}</td><td>{e(f['message'])}</td></tr>"
        for f in rep["findings"]
    )
    rows_a = "".join(
        f"<tr><td>{a['id']}</td><td>{e(STAGE_LABELS.get(a['stage'], a['stage']))}</td><td>{e(a['kind'])}</td>"
        f"<td>{e(a['recording'])}</td><td>{e(_t(a['starts_at']))} – {e(_t(a['ends_at']))}</td>"
        f"<td>{e(a['place'] or '')}</td><td>{e(', '.join(a['officers']))}</td>"
        f"<td>{a['covered_s']:.0f} / {a['span_s']:.0f} s</td></tr>"
        for a in rep["activities"]
    )
    rows_s = "".join(
        f"<tr><td>{s['link_id']}</td><td><code>{e(s['sha256'][:16])}…</code></td><td>{e(s['stage'])}</td>"
        f"<td>{e(str(s['activity_id'] or ''))}</td><td>{e(s['officer_no'] or '')} {e(s['officer_name'] or '')}</td>"
        f"<td>{e(s['device_serial'] or '')}</td><td>{e(_t(s['starts_at']))} – {e(_t(s['ends_at']))}</td>"
        f"<td>{e(s['proves'] or '')}</td></tr>"
        for s in rep["segments"]
    )
    return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>完整性报告 {e(rep["case_no"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #999;padding:.3em .6em}}.error{{background:#fdd}}.warning{{background:#ffd}}</style>
</head><body>
<h1>音像记录完整性报告 — 案号 {e(rep["case_no"])}</h1>
<p>Stage: {e(STAGE_LABELS.get(rep["stage"], rep["stage"]))} ({e(rep["stage"])}); major decision: {rep["major"]}.
<strong>{e(verdict)}</strong>; warnings: {rep["warnings"]}.</p>
<h2>Findings</h2><table><tr><th>severity</th><th>kind</th><th>activity</th><th>from</th><th>to</th>
<th>message</th></tr>{rows_f}</table>
<h2>Activities</h2><table><tr><th>id</th><th>stage</th><th>kind</th><th>recording</th><th>span</th>
<th>place</th><th>officers</th><th>covered</th></tr>{rows_a}</table>
<h2>Segments</h2><table><tr><th>link</th><th>sha256</th><th>stage</th><th>activity</th><th>officer</th>
<th>device</th><th>span</th><th>proves</th></tr>{rows_s}</table>
</body></html>"""
