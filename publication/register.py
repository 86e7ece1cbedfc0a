"""The publication register (公示): a record per decision, its deadline, and its life.

States: ``due`` → ``published`` → ``updated`` (a corrected text went out) / ``revoked``. Each step is an
audit event in the same transaction as the row change, carrying the exact text:

- ``publication.due`` — opened by ``on_stage_change`` when a case enters 决定 (a ``STAGE_HOOKS`` hook):
  decision time, deadline, whether it is provisional and which year is missing, the draft text;
- ``publication.approve`` — a person approved this exact text (refused if it shows personal data);
- ``publication.publish`` / ``publication.update`` — this exact approved text went out (version n);
- ``publication.revoke`` — withdrawn, with the reason and the text withdrawn;
- ``publication.deadline`` — a provisional deadline recomputed after a year table was loaded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg

from liuhen.cases.access import record_event
from liuhen.core.timefmt import utc_iso, utcnow
from liuhen.publication import calendar_store
from liuhen.publication.deadlines import CHINA_TZ, decision_day, publication_deadline
from liuhen.publication.errors import PublicationError, PublicationNotFound, PublicationStateError
from liuhen.publication.public_text import CaseFacts, build_public_text, check_public
from liuhen.publication.workdays import YearTable

Conn = psycopg.Connection[Any]


def today_cst() -> date:
    return utcnow().astimezone(CHINA_TZ).date()


def facts(pub: dict[str, Any], case: dict[str, Any], conclusion: str | None = None) -> CaseFacts:
    return CaseFacts(case_no=case["case_no"], agency=case["agency"], subject=case["subject"],
                     case_type=case["case_type"], conclusion=pub["conclusion"] if conclusion is None else conclusion,
                     decided_on=pub["decided_on"])


def _row(conn: Conn, case_no: str, *, lock: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    pub = conn.execute("SELECT * FROM publications WHERE case_no = %s" + (" FOR UPDATE" if lock else ""),
                       (case_no,)).fetchone()
    if pub is None:
        raise PublicationNotFound(f"no publication for case {case_no!r} (it opens when the case enters 决定)")
    case = conn.execute("SELECT * FROM cases WHERE id = %s", (pub["case_id"],)).fetchone()
    assert case is not None
    return dict(pub), dict(case)


def on_stage_change(conn: Conn, case: dict[str, Any], actor: str) -> None:
    """``liuhen.cases.service.STAGE_HOOKS`` hook: a case entering 决定 opens its publication record."""
    if case["stage"] != "decision":
        return
    at = conn.execute("SELECT max(entered_at) AS t FROM case_stages WHERE case_id = %s AND stage = 'decision'",
                      (case["id"],)).fetchone()
    decided_at: datetime = at["t"] if at and at["t"] else utcnow()
    open_publication(conn, case, decided_at, actor)


def open_publication(conn: Conn, case: dict[str, Any], decided_at: datetime, actor: str) -> dict[str, Any]:
    dl = publication_deadline(calendar_store.calendar(conn), calendar_store.policy(conn), decided_at=decided_at,
                              agency=case["agency"], case_type=case["case_type"])
    f = CaseFacts(case["case_no"], case["agency"], case["subject"], case["case_type"], "", decision_day(decided_at))
    draft = build_public_text(f)
    ev = record_event(conn, "publication.due", actor, subject={"case": case["case_no"]}, data={
        "decided_at": utc_iso(decided_at), **dl.as_json(), "due_on": dl.due.isoformat(),
        "agency": case["agency"], "case_type": case["case_type"], "draft_text": draft})
    row = conn.execute(
        "INSERT INTO publications (case_id, case_no, agency, unit_code, case_type, decided_at, decided_on, "
        "working_days, due_on, provisional, missing_years, basis, draft_text, event_id) "
        "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING *",
        (case["id"], case["case_no"], case["agency"], case.get("unit_code"), case["case_type"], decided_at,
         dl.decided_on, dl.working_days, dl.due, dl.provisional, list(dl.missing_years), dl.basis, draft, ev),
    ).fetchone()
    assert row is not None
    return dict(row)


def approve(conn: Conn, case_no: str, actor: str, *, conclusion: str | None = None,
            text: str | None = None) -> dict[str, Any]:
    """Approve the text to publish: an edited ``text``, or the draft rebuilt with ``conclusion``.

    Refused when the text still shows personal data of the case (``PersonalDataInText``), when no
    conclusion was ever given, or once the record is revoked.
    """
    pub, case = _row(conn, case_no, lock=True)
    if pub["state"] == "revoked":
        raise PublicationStateError(f"publication of {case_no} is revoked; nothing can be approved")
    conc = pub["conclusion"] if conclusion is None else conclusion.strip()
    f = facts(pub, case, conc)
    body = build_public_text(f) if text is None else (text if text.endswith("\n") else text + "\n")
    if text is None and not conc:
        raise PublicationStateError(
            f"publication of {case_no} has no conclusion yet: give --conclusion or an edited text")
    check_public(body, f)
    ev = record_event(conn, "publication.approve", actor, subject={"case": case_no},
                      data={"text": body, "version": pub["version"] + 1})
    row = conn.execute(
        "UPDATE publications SET conclusion = %s, draft_text = %s, approved_text = %s, approved_by = %s, "
        "approved_at = now(), event_id = %s WHERE id = %s RETURNING *",
        (conc, body, body, actor, ev, pub["id"]),
    ).fetchone()
    assert row is not None
    return dict(row)


def publish(conn: Conn, case_no: str, actor: str) -> dict[str, Any]:
    """Put the approved text out: first time ``published``, a changed text later ``updated``."""
    pub, _ = _row(conn, case_no, lock=True)
    if pub["state"] == "revoked":
        raise PublicationStateError(f"publication of {case_no} is revoked")
    if not pub["approved_text"]:
        raise PublicationStateError(f"publication of {case_no} has no approved text; approve it first")
    if pub["public_text"] == pub["approved_text"]:
        raise PublicationStateError(f"publication of {case_no}: this text is already out (version {pub['version']})")
    state = "published" if pub["state"] == "due" else "updated"
    version = pub["version"] + 1
    ev = record_event(conn, f"publication.{'publish' if state == 'published' else 'update'}", actor,
                      subject={"case": case_no}, data={"version": version, "text": pub["approved_text"],
                                                       "approved_by": pub["approved_by"], "due_on": str(pub["due_on"])})
    conn.execute("INSERT INTO publication_versions (publication_id, version, state, text, approved_by, actor, "
                 "event_id) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                 (pub["id"], version, state, pub["approved_text"], pub["approved_by"], actor, ev))
    row = conn.execute(
        "UPDATE publications SET state = %s, public_text = approved_text, version = %s, published_at = now(), "
        "first_published_at = coalesce(first_published_at, now()), event_id = %s WHERE id = %s RETURNING *",
        (state, version, ev, pub["id"]),
    ).fetchone()
    assert row is not None
    return dict(row)


def revoke(conn: Conn, case_no: str, actor: str, reason: str) -> dict[str, Any]:
    """Withdraw a published text (建立撤销制度); the reason and the withdrawn text are logged."""
    if not reason.strip():
        raise PublicationError("revoking a publication needs a reason")
    pub, _ = _row(conn, case_no, lock=True)
    if pub["state"] not in ("published", "updated"):
        raise PublicationStateError(f"publication of {case_no} is {pub['state']}; only a published text is revoked")
    version = pub["version"] + 1
    ev = record_event(conn, "publication.revoke", actor, subject={"case": case_no},
                      data={"version": version, "reason": reason.strip(), "withdrawn_text": pub["public_text"]})
    conn.execute("INSERT INTO publication_versions (publication_id, version, state, text, actor, event_id) "
                 "VALUES (%s,%s,'revoked',%s,%s,%s)", (pub["id"], version, pub["public_text"], actor, ev))
    row = conn.execute(
        "UPDATE publications SET state = 'revoked', public_text = NULL, version = %s, revoked_at = now(), "
        "revoke_reason = %s, event_id = %s WHERE id = %s RETURNING *",
        (version, reason.strip(), ev, pub["id"]),
    ).fetchone()
    assert row is not None
    return dict(row)


def load_calendar(conn: Conn, table: YearTable, actor: str) -> dict[str, Any]:
    """Load a year table and make every provisional deadline of a record not yet out exact where it can be."""
    out = calendar_store.load_year(conn, table, actor)
    cal, pol = calendar_store.calendar(conn), calendar_store.policy(conn)
    changed = []
    for p in conn.execute("SELECT * FROM publications WHERE provisional AND state = 'due' FOR UPDATE").fetchall():
        dl = publication_deadline(cal, pol, decided_at=p["decided_at"], agency=p["agency"], case_type=p["case_type"])
        record_event(conn, "publication.deadline", actor, subject={"case": p["case_no"]}, data={
            "old_due_on": str(p["due_on"]), "due_on": dl.due.isoformat(), "provisional": dl.provisional,
            "missing_years": list(dl.missing_years), "calendar_year": table.year})
        conn.execute("UPDATE publications SET due_on = %s, provisional = %s, missing_years = %s WHERE id = %s",
                     (dl.due, dl.provisional, list(dl.missing_years), p["id"]))
        changed.append({"case_no": p["case_no"], "old_due_on": str(p["due_on"]), "due_on": dl.due.isoformat(),
                        "provisional": dl.provisional})
    return {**out, "recomputed": changed}


def listing(conn: Conn, *, which: str = "all", today: date | None = None) -> list[dict[str, Any]]:
    """Records with case, decision time, deadline, provisional flag and state.

    ``which``: ``all``; ``due`` (not yet out, deadline today or later — soonest first); ``overdue`` (not
    yet out, deadline passed).
    """
    today = today or today_cst()
    where = {"all": "TRUE", "due": "state = 'due' AND due_on >= %(t)s", "overdue": "state = 'due' AND due_on < %(t)s"}
    if which not in where:
        raise PublicationError(f"list {which!r}: use all, due or overdue")
    rows = conn.execute(
        "SELECT case_no, agency, unit_code, case_type, decided_at, decided_on, working_days, due_on, provisional, "
        f"missing_years, basis, state, version, approved_by, published_at FROM publications WHERE {where[which]} "
        "ORDER BY due_on, case_no", {"t": today}).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["overdue"] = d["state"] == "due" and d["due_on"] < today
        d["deadline"] = f"{d['due_on']}" + (
            f" PROVISIONAL (no working-day table for {', '.join(map(str, d['missing_years']))})"
            if d["provisional"] else "")
        out.append(d)
    return out
