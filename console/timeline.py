"""Completeness as a picture: the geometry of one SVG timeline per activity, from the JSON report.

Pure: takes ``liuhen.cases.completeness.report(...)`` output, returns rows and rectangles in a fixed
``WIDTH``-unit coordinate system (the template draws them). The same findings as the report: a gap
rectangle per ``coverage_gap``, each recorder's linked segments, late uploads and clock drift marked
on the segment they concern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WIDTH = 1000.0
SEGMENT_FLAGS = ("late_upload", "clock_drift")


@dataclass(frozen=True)
class Bar:
    x: float
    w: float
    starts_at: datetime
    ends_at: datetime
    sha256: str | None = None
    marks: tuple[str, ...] = ()


@dataclass
class Row:
    label: str  # device serial (officer)
    bars: list[Bar] = field(default_factory=list)


@dataclass
class ActivityTimeline:
    activity_id: int
    kind: str
    stage: str
    starts_at: datetime
    ends_at: datetime
    span: Bar
    rows: list[Row]
    gaps: list[Bar]
    covered_s: float
    span_s: float


def _scale(t0: datetime, t1: datetime) -> Any:
    total = max((t1 - t0).total_seconds(), 1e-9)

    def x(t: datetime) -> float:
        return round(WIDTH * (t - t0).total_seconds() / total, 2)

    return x


def _bar(x: Any, a: datetime, b: datetime, **kw: Any) -> Bar:
    return Bar(x(a), round(max(x(b) - x(a), 0.0), 2), a, b, **kw)


def activity_timeline(report: dict[str, Any], activity: dict[str, Any]) -> ActivityTimeline:
    """The timeline of one activity of ``report``: the window is the activity's span widened to every
    linked segment, so footage that starts early or runs late is visible rather than cut off."""
    segs = [s for s in report["segments"] if s["link_id"] in set(activity["linked_segments"])]
    spans = [(s["starts_at"], s["ends_at"]) for s in segs if s.get("starts_at") and s.get("ends_at")]
    t0 = min([activity["starts_at"], *(a for a, _ in spans)])
    t1 = max([activity["ends_at"], *(b for _, b in spans)])
    x = _scale(t0, t1)
    marks: dict[str, set[str]] = {}
    for f in report["findings"]:
        if f["kind"] in SEGMENT_FLAGS and f.get("sha256"):
            marks.setdefault(f["sha256"], set()).add(f["kind"])
    rows: dict[str, Row] = {}
    for s in segs:
        if not (s.get("starts_at") and s.get("ends_at")):
            continue
        label = s.get("device_serial") or "?"
        if s.get("officer_no"):
            label += f" ({s['officer_no']})"
        rows.setdefault(label, Row(label)).bars.append(
            _bar(x, s["starts_at"], s["ends_at"], sha256=s["sha256"],
                 marks=tuple(sorted(marks.get(s["sha256"], ()))))
        )
    for r in rows.values():
        r.bars.sort(key=lambda b: b.x)
    gaps = [_bar(x, g["starts_at"], g["ends_at"]) for g in activity["gaps"]]
    return ActivityTimeline(
        activity_id=activity["id"], kind=activity["kind"], stage=activity["stage"],
        starts_at=activity["starts_at"], ends_at=activity["ends_at"],
        span=_bar(x, activity["starts_at"], activity["ends_at"]),
        rows=[rows[k] for k in sorted(rows)], gaps=gaps,
        covered_s=activity["covered_s"], span_s=activity["span_s"],
    )


def timelines(report: dict[str, Any]) -> list[ActivityTimeline]:
    return [activity_timeline(report, a) for a in report["activities"]]
