"""Seed a catalog with a few hundred cases over several years, units and types — catalog rows and their
audit events written together with the same (back-dated) times, as the services would have written them
over three years. Deterministic (fixed RNG seed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from liuhen.integrity.events import Event
from liuhen.integrity.log import record
from liuhen.publication.deadlines import add_working_days, decision_day
from liuhen.publication.workdays import WorkingCalendar

TYPES = ("permit", "penalty", "coercive", "levy", "inspection")
STAGES = ("filing", "investigation", "review", "decision", "service", "execution", "closure")
UNITS = ("110101000000", "110102000000", "110105000000", None)
START = datetime(2024, 1, 1, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ev(conn: psycopg.Connection[Any], type_: str, t: datetime, subject: dict[str, Any], data: dict[str, Any]) -> int:
    return record(conn, Event(type_, "seed", subject=subject, data=data, time=_iso(t)))


def _publication(conn: Any, rng: random.Random, case: dict[str, Any], decided: datetime) -> None:
    dl = add_working_days(WorkingCalendar(), decision_day(decided), 7 if case["case_type"] in ("permit", "penalty")
                          else 20)
    no = case["case_no"]
    ev = _ev(conn, "publication.due", decided, {"case": no}, {"decided_on": dl.decided_on.isoformat(),
                                                              "due_on": dl.due.isoformat()})
    pid = conn.execute(
        "INSERT INTO publications (case_id, case_no, agency, case_type, decided_at, decided_on, working_days, due_on, "
        "provisional, draft_text, event_id, created_at) VALUES (%s,%s,'A',%s,%s,%s,%s,%s,%s,'d',%s,%s) RETURNING id",
        (case["id"], no, case["case_type"], decided, dl.decided_on, dl.working_days, dl.due, dl.provisional, ev,
         decided)).fetchone()["id"]
    r = rng.random()
    if r < 0.15:
        return  # never published
    days = rng.randint(1, 10) if r < 0.75 else rng.randint(25, 40)  # mostly on time, some late
    t = decided + timedelta(days=days)
    version = 1
    ev = _ev(conn, "publication.publish", t, {"case": no}, {"version": 1, "text": "x"})
    conn.execute("INSERT INTO publication_versions (publication_id, version, state, text, actor, at, event_id) "
                 "VALUES (%s,1,'published','x','seed',%s,%s)", (pid, t, ev))
    state = "published"
    for kind in ("updated", "revoked"):
        if rng.random() < 0.1:
            t += timedelta(days=3)
            version += 1
            ev = _ev(conn, f"publication.{'update' if kind == 'updated' else 'revoke'}", t, {"case": no},
                     {"version": version})
            conn.execute("INSERT INTO publication_versions (publication_id, version, state, text, actor, at, "
                         "event_id) VALUES (%s,%s,%s,'x','seed',%s,%s)", (pid, version, kind, t, ev))
            state = kind
    conn.execute("UPDATE publications SET state = %s, first_published_at = %s, published_at = %s, "
                 "public_text = CASE WHEN %s = 'revoked' THEN NULL ELSE 'x' END, version = %s WHERE id = %s",
                 (state, decided + timedelta(days=days), t, state, version, pid))


def _activities(conn: Any, rng: random.Random, case: dict[str, Any], t: datetime, files: list[int]) -> None:
    for _ in range(rng.randint(0, 2)):
        start = t + timedelta(hours=rng.randint(1, 48))
        act = conn.execute(
            "INSERT INTO activities (case_id, stage, kind, recording, starts_at, ends_at) VALUES "
            "(%s,'investigation','seizure','full_av',%s,%s) RETURNING id",
            (case["id"], start, start + timedelta(minutes=10))).fetchone()["id"]
        r = rng.random()
        if r < 0.2:
            continue  # no footage
        duration = 720.0 if r < 0.7 else 300.0  # 12 min from 1 min before covers the 10-min activity; 5 min does not
        fid = _file(conn, rng, start - timedelta(minutes=1), case.get("unit_code"), duration)
        files.append(fid)
        unlinked = t + timedelta(days=400) if rng.random() < 0.1 else None
        conn.execute("INSERT INTO links (case_id, stage, activity_id, file_id, linked_by, linked_at, unlinked_at, "
                     "unlinked_by) VALUES (%s,'investigation',%s,%s,'seed',%s,%s,%s)",
                     (case["id"], act, fid, start + timedelta(hours=1), unlinked, "seed" if unlinked else None))


def _file(conn: Any, rng: random.Random, recorded: datetime, unit: str | None, duration: float) -> int:
    sha = f"{rng.getrandbits(256):064x}"
    late = rng.random() < 0.1
    ingested = recorded + timedelta(hours=rng.randint(25, 90) if late else rng.randint(1, 20))
    return int(conn.execute(
        "INSERT INTO files (sha256, size, media_kind, unit_code, recorded_at, duration_s, storage_key, ingested_at) "
        "VALUES (%s,%s,'video',%s,%s,%s,%s,%s) RETURNING id",
        (sha, rng.randint(10**6, 10**10), unit, recorded, duration, sha, ingested)).fetchone()["id"])


def _oversight(conn: Any, rng: random.Random, case: dict[str, Any], t: datetime) -> None:
    no = case["case_no"]
    if rng.random() < 0.3:
        req = conn.execute("INSERT INTO access_requests (requester, kind, case_no, purpose, requested_at) VALUES "
                           "('r','export',%s,'p',%s) RETURNING id", (no, t)).fetchone()["id"]
        _ev(conn, "access.request", t, {"case": no}, {"request_id": req})
        if rng.random() < 0.8:
            status = "approved" if rng.random() < 0.75 else "rejected"
            d = t + timedelta(days=rng.randint(0, 60))
            _ev(conn, "access.approval", d, {"case": no}, {"decision": status})
            conn.execute("UPDATE access_requests SET status = %s, decided_by = 's', decided_at = %s WHERE id = %s",
                         (status, d, req))
            if status == "approved" and rng.random() < 0.7:
                e = d + timedelta(days=1)
                _ev(conn, "export", e, {"case": no}, {"phase": "manifest"})
                ev = _ev(conn, "export", e, {"case": no}, {"phase": "sealed"})
                conn.execute("INSERT INTO exports (case_id, case_no, out_path, files, bytes, tagmanifest_sha256, "
                             "checkpoint_size, event_id, actor, created_at) VALUES (%s,%s,'/x',1,1,%s,1,%s,'s',%s)",
                             (case["id"], no, "0" * 64, ev, e))


def _case(conn: Any, rng: random.Random, n: int) -> None:
    t = START + timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60 - 1))
    ctype, unit = rng.choice(TYPES), rng.choice(UNITS)
    no = f"S-{n:04d}"
    case = conn.execute("INSERT INTO cases (case_no, agency, unit_code, subject, case_type, major, created_by, "
                        "created_at) VALUES (%s,'A',%s,'某某',%s,%s,'seed',%s) RETURNING *",
                        (no, unit, ctype, rng.random() < 0.3, t)).fetchone()
    _ev(conn, "case.create", t, {"case": no}, {"case_type": ctype})
    files: list[int] = []
    _activities(conn, rng, case, t, files)
    last = rng.randint(0, len(STAGES) - 1)
    for i, stage in enumerate(STAGES[: last + 1]):
        if stage == "decision" and case["major"]:
            approved = rng.random() < 0.8
            conn.execute("INSERT INTO legal_reviews (case_id, reviewer, opinion, approved, reviewed_at) VALUES "
                         "(%s,'lr','o',%s,%s)", (case["id"], approved, t))
            _ev(conn, "legal_review", t, {"case": no}, {"approved": approved})
            if not approved:
                break
        ev = _ev(conn, "stage.change", t, {"case": no}, {"to": stage})
        conn.execute("INSERT INTO case_stages (case_id, stage, entered_at, entered_by, event_id) VALUES "
                     "(%s,%s,%s,'seed',%s)", (case["id"], stage, t, ev))
        conn.execute("UPDATE cases SET stage = %s WHERE id = %s", (stage, case["id"]))
        if stage == "decision":
            _publication(conn, rng, case, t)
        if i < last:
            t += timedelta(days=rng.randint(1, 120), minutes=rng.randint(0, 600))
    _oversight(conn, rng, case, t)
    for fid in files:
        if rng.random() < 0.05:
            conn.execute("UPDATE files SET status = 'disposed' WHERE id = %s", (fid,))
            _ev(conn, "disposal", t + timedelta(days=200), {"sha256": f"{fid:064x}"}, {"size": 5})


def seed(conn: psycopg.Connection[Any], cases: int = 300, rng_seed: int = 14) -> None:
    rng = random.Random(rng_seed)
    for n in range(cases):
        _case(conn, rng, n)
