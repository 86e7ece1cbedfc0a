"""Completeness findings as people read them: severity, kind and details through the message catalogs, and a
headline that matches the findings (never "complete" while a warning such as a coverage gap is listed).

Pure: takes ``liuhen.cases.completeness.report(...)`` output and a translate function. The report's English
``message`` is machine text; the details are rebuilt from the finding's fields (and, for the kinds whose numbers
live only in the message, parsed from it — falling back to the message itself if its wording ever changes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liuhen.console.labels import N_, activity_label

SEVERITY_LABELS = {"error": N_("Error"), "warning": N_("Warning"), "info": N_("Note")}
FINDING_LABELS = {
    "coverage_gap": N_("Coverage gap"),
    "missing_av": N_("Full AV recording missing"),
    "no_av": N_("No AV recording"),
    "late_upload": N_("Late upload"),
    "clock_drift": N_("Clock drift"),
    "unknown_duration": N_("Unknown duration"),
    "officer_not_listed": N_("Officer not listed"),
}
DETAILS = {
    "coverage_gap": N_("No footage covers %(seconds)s s of %(activity)s (%(start)s – %(end)s)."),
    "missing_av": N_("%(activity)s requires full audio-video recording; no footage is linked."),
    "no_av": N_("%(activity)s: audio-video recording as circumstances require; none is linked."),
    "late_upload": N_("Stored %(hours)s h after recording (limit %(limit)s h)."),
    "clock_drift": N_("Device clock suspect: %(why)s"),
    "unknown_duration": N_("Recording time or duration unknown; the segment cannot be placed."),
    "officer_not_listed": N_("Footage by officer %(officer)s, who is not listed on the activity."),
}
CLOCK_AHEAD = N_("the recording time is later than the ingest time")
HEADLINES = {
    "incomplete": N_("Incomplete: %(errors)s error(s), %(warnings)s warning(s)"),
    "warnings": N_("No errors, but %(warnings)s warning(s) to check"),
    "complete": N_("Complete: no findings"),
    "complete_info": N_("Complete: %(infos)s note(s)"),
}
_LATE = re.compile(r"stored ([\d.]+) h after recording \(limit ([\d.]+) h\)")
_OFFICER = re.compile(r"footage by officer (\S+) not listed")
_FLAGS = re.compile(r"flags \[(.*)\]")

Translate = Callable[[str], str]


@dataclass(frozen=True)
class FindingRow:
    severity: str  # the report's key, for the row's CSS class
    severity_label: str
    kind_label: str
    activity_id: int | None
    details: str


def finding_label(kind: str, _: Translate) -> str:
    return _(FINDING_LABELS[kind]) if kind in FINDING_LABELS else kind


def _args(f: dict[str, Any], act: str, when: Callable[[datetime | None], str]) -> dict[str, Any] | None:
    kind, msg = f["kind"], f.get("message") or ""
    if kind == "coverage_gap":
        return {"seconds": f"{f.get('seconds', 0):.0f}", "activity": act, "start": when(f.get("starts_at")),
                "end": when(f.get("ends_at"))}
    if kind in ("missing_av", "no_av"):
        return {"activity": act}
    if kind == "late_upload":
        m = _LATE.search(msg)
        return {"hours": m.group(1), "limit": m.group(2)} if m else None
    if kind == "officer_not_listed":
        m = _OFFICER.search(msg)
        return {"officer": m.group(1)} if m else None
    if kind == "unknown_duration":
        return {}
    return None


def details(f: dict[str, Any], _: Translate, when: Callable[[datetime | None], str],
            kind_labels: Mapping[str, str]) -> str:
    """The finding's details in the page's language (the report's own message if it cannot be rebuilt)."""
    act = activity_label(f.get("activity_kind") or "", _, kind_labels)
    if f["kind"] == "clock_drift":
        msg = f.get("message") or ""
        m = _FLAGS.search(msg)
        why = m.group(1).replace("'", "") if m else _(CLOCK_AHEAD) if "later than ingest" in msg else None
        return _(DETAILS["clock_drift"]) % {"why": why} if why is not None else msg
    args = _args(f, act, when)
    if args is None or f["kind"] not in DETAILS:
        return str(f.get("message") or "")
    return _(DETAILS[f["kind"]]) % args


def rows(report: dict[str, Any], _: Translate, when: Callable[[datetime | None], str],
         kind_labels: Mapping[str, str]) -> list[FindingRow]:
    return [FindingRow(f["severity"], _(SEVERITY_LABELS.get(f["severity"], f["severity"])),
                       finding_label(f["kind"], _), f.get("activity_id"), details(f, _, when, kind_labels))
            for f in report["findings"]]


def headline(report: dict[str, Any], _: Translate) -> tuple[str, str]:
    """(state, sentence): ``incomplete`` when any error, ``warnings`` when no error but a warning (a coverage
    gap of an activity recorded 'as circumstances require' is a warning), else ``complete``."""
    sev = [f["severity"] for f in report["findings"]]
    n = {"errors": sev.count("error"), "warnings": sev.count("warning"), "infos": sev.count("info")}
    state = "incomplete" if n["errors"] else "warnings" if n["warnings"] else "complete"
    key = "complete_info" if state == "complete" and n["infos"] else state
    return state, _(HEADLINES[key]) % n
