"""Activities (执法活动) typed by the recording list (音像记录事项清单), and changes to that list.

``add_activity`` logs ``activity.create``; ``set_recording_item`` logs ``recording_list.change`` in the
same transaction as the change. An activity kind that is not on the recording list is refused with
``UnknownActivityKind`` (409: the request is well formed, but conflicts with the list as it stands).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from liuhen.cases.accessevents import record_event
from liuhen.cases.errors import InvalidActivity, UnknownActivityKind
from liuhen.cases.rows import case_row as _case_row
from liuhen.cases.values import check_stage, check_texts
from liuhen.core.errors import Conflict
from liuhen.core.timefmt import parse_utc
from liuhen.integrity.events import EVENT_TYPES
from liuhen.runtime import Runtime


def recording_requirement(conn: psycopg.Connection[Any], kind: str) -> str:
    row = conn.execute("SELECT recording FROM recording_list WHERE kind = %s", (kind,)).fetchone()
    if row is None:
        kinds = [r["kind"] for r in conn.execute("SELECT kind FROM recording_list ORDER BY kind").fetchall()]
        raise UnknownActivityKind(f"activity kind {kind!r} is not on the recording list; known: {', '.join(kinds)}")
    return str(row["recording"])


def add_activity(
    runtime: Runtime,
    case_no: str,
    *,
    stage: str,
    kind: str,
    starts_at: datetime | str,
    ends_at: datetime | str,
    place: str | None = None,
    officers: list[str] | tuple[str, ...] = (),
    actor: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Add an activity (typed by the recording list) to a case stage; logs ``activity.create``."""
    check_stage(stage)
    check_texts((("kind", kind), ("place", place), ("officers", list(officers)), ("note", note)))
    t0, t1 = parse_utc(starts_at, "starts_at"), parse_utc(ends_at, "ends_at")
    if t1 < t0:
        raise InvalidActivity(f"activity ends ({t1.isoformat()}) before it starts ({t0.isoformat()})")
    with runtime.catalog.tx() as conn:
        case = _case_row(conn, case_no)
        recording = recording_requirement(conn, kind)
        row = conn.execute(
            "INSERT INTO activities (case_id, stage, kind, recording, starts_at, ends_at, place, officers, note) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
            (case["id"], stage, kind, recording, t0, t1, place, list(officers), note),
        ).fetchone()
        assert row is not None
        record_event(
            conn,
            "activity.create",
            actor,
            subject={"case": case_no},
            data={
                "activity_id": row["id"],
                "stage": stage,
                "kind": kind,
                "recording": recording,
                "starts_at": t0.isoformat(),
                "ends_at": t1.isoformat(),
                "place": place,
                "officers": list(officers),
            },
        )
    return dict(row)




RECORDING_LIST_EVENT = "recording_list.change"


def set_recording_item(runtime: Runtime, *, kind: str, recording: str, label: str, actor: str) -> dict[str, Any]:
    """Add or change one recording-list entry; the change and its audit event commit together.

    Existing activities keep the requirement they were created with. Refused (``Conflict``, 409) rather
    than done unaudited while the audit event type is not registered in ``integrity.events``.
    """
    if RECORDING_LIST_EVENT not in EVENT_TYPES:

        raise Conflict(
            f"recording-list changes are audited as {RECORDING_LIST_EVENT!r}, which integrity.events does not "
            "know yet; refusing an unaudited change"
        )
    check_texts((("kind", kind), ("recording", recording), ("label", label)))
    with runtime.catalog.tx() as conn:
        before = conn.execute(
            "SELECT recording, label FROM recording_list WHERE kind = %s FOR UPDATE", (kind,)
        ).fetchone()
        row = conn.execute(
            "INSERT INTO recording_list (kind, recording, label) VALUES (%s, %s, %s) ON CONFLICT (kind) DO UPDATE "
            "SET recording = EXCLUDED.recording, label = EXCLUDED.label RETURNING kind, recording, label",
            (kind, recording, label),
        ).fetchone()
        assert row is not None
        record_event(
            conn,
            RECORDING_LIST_EVENT,
            actor,
            data={
                "kind": kind,
                "recording": recording,
                "label": label,
                "before": dict(before) if before else None,
            },
        )
    return dict(row)
