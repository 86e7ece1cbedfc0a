"""The publication register on a real catalog: opened by the stage hook, approved, published, updated,
revoked — each an audit event carrying the exact text — and deadlines made exact by a loaded year."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from liuhen.cases import service as cases
from liuhen.publication import public_feed, register
from liuhen.publication.errors import PersonalDataInText, PublicationStateError
from liuhen.publication.workdays import parse_table

DATA = Path(__file__).parent / "data"
CONCLUSION = "当事人王小明（身份证号11010519491231002X，电话13812345678）无证经营，罚款5000元。"


def decide(rt: Any, case_no: str, *, case_type: str = "penalty", subject: str = "王小明") -> None:
    cases.create_case(rt, case_no=case_no, agency="某区市场监督管理局", subject=subject, case_type=case_type,
                      actor="clerk", unit_code="U1")
    for stage in ("investigation", "review", "decision"):
        cases.advance_stage(rt, case_no, stage, "clerk")


def events(rt: Any, type_: str) -> list[dict[str, Any]]:
    rows = rt.catalog.all("SELECT body FROM log_events WHERE type = %s ORDER BY id", (type_,))
    return [json.loads(bytes(r["body"])) for r in rows]


def test_entering_decision_opens_a_record_with_its_deadline(runtime: Any) -> None:
    decide(runtime, "C-1")
    cases.create_case(runtime, case_no="C-2", agency="A", subject="B", case_type="levy", actor="clerk")
    with runtime.catalog.tx() as conn:
        rows = register.listing(conn, today=date(2000, 1, 1))
    assert [r["case_no"] for r in rows] == ["C-1"]  # C-2 has not reached 决定
    r = rows[0]
    assert r["state"] == "due" and r["working_days"] == 7 and r["due_on"] > r["decided_on"]
    ev = events(runtime, "publication.due")[0]
    assert ev["subject"] == {"case": "C-1"} and ev["data"]["due_on"] == str(r["due_on"])
    assert "当事人：王○" in ev["data"]["draft_text"] and "王小明" not in ev["data"]["draft_text"]


def test_provisional_deadline_becomes_exact_when_the_year_is_loaded(runtime: Any) -> None:
    cases.create_case(runtime, case_no="C-9", agency="A", subject="某某科技有限公司", case_type="permit", actor="c")
    with runtime.catalog.tx() as conn:
        case = conn.execute("SELECT * FROM cases WHERE case_no = 'C-9'").fetchone()
        # decided Mon 2026-12-28 (Beijing): 7 working days -> 2027-01-06 on weekdays only (see test_deadlines)
        register.open_publication(conn, case, datetime.fromisoformat("2026-12-28T10:00:00+08:00"), "clerk")
        [row] = register.listing(conn, which="due", today=date(2026, 12, 28))
    assert (str(row["due_on"]), row["provisional"], row["missing_years"]) == ("2027-01-06", True, [2027])
    assert row["deadline"] == "2027-01-06 PROVISIONAL (no working-day table for 2027)"
    with runtime.catalog.tx() as conn:
        out = register.load_calendar(conn, parse_table((DATA / "test-2027.toml").read_text()), "admin")
        [row] = register.listing(conn, today=date(2026, 12, 28))
    assert out["recomputed"] == [{"case_no": "C-9", "old_due_on": "2027-01-06", "due_on": "2027-01-07",
                                  "provisional": False}]
    assert (str(row["due_on"]), row["provisional"], row["deadline"]) == ("2027-01-07", False, "2027-01-07")
    assert events(runtime, "publication.deadline")[0]["data"]["due_on"] == "2027-01-07"
    assert events(runtime, "calendar.load")[0]["data"]["year"] == 2027


def test_approve_publish_update_revoke_each_logged_with_the_exact_text(runtime: Any) -> None:
    decide(runtime, "C-3")
    with runtime.catalog.tx() as conn:
        with pytest.raises(PublicationStateError, match="no approved text"):
            register.publish(conn, "C-3", "supervisor")
    with runtime.catalog.tx() as conn:
        a = register.approve(conn, "C-3", "supervisor", conclusion=CONCLUSION)
    assert "王○（身份证号110105********002X，电话138****5678）" in a["approved_text"]
    with runtime.catalog.tx() as conn:
        p = register.publish(conn, "C-3", "supervisor")
    assert (p["state"], p["version"]) == ("published", 1)
    assert events(runtime, "publication.publish")[0]["data"]["text"] == a["approved_text"]
    # an edit that reveals the party's name is refused; a clean edit goes out as an update
    with runtime.catalog.tx() as conn, pytest.raises(PersonalDataInText, match="name '王小明'"):
        register.approve(conn, "C-3", "supervisor", text=a["approved_text"].replace("王○", "王小明"))
    corrected = a["approved_text"].replace("5000元", "3000元")
    with runtime.catalog.tx() as conn:
        register.approve(conn, "C-3", "supervisor", text=corrected)
        u = register.publish(conn, "C-3", "supervisor")
        with pytest.raises(PublicationStateError, match="already out"):
            register.publish(conn, "C-3", "supervisor")
    assert (u["state"], u["version"], u["public_text"]) == ("updated", 2, corrected)
    assert events(runtime, "publication.update")[0]["data"]["text"] == corrected
    with runtime.catalog.tx() as conn:
        assert [i["text"] for i in public_feed.items(conn)] == [corrected]
        r = register.revoke(conn, "C-3", "supervisor", "决定已被复议撤销")
        assert public_feed.items(conn) == []
    assert r["state"] == "revoked"
    assert events(runtime, "publication.revoke")[0]["data"]["withdrawn_text"] == corrected
    versions = runtime.catalog.all("SELECT version, state FROM publication_versions ORDER BY version")
    assert [(v["version"], v["state"]) for v in versions] == [(1, "published"), (2, "updated"), (3, "revoked")]


def test_overdue_and_due_lists(runtime: Any) -> None:
    decide(runtime, "C-4")
    decide(runtime, "C-5", case_type="inspection")
    with runtime.catalog.tx() as conn:
        due5 = register.listing(conn)[1]["due_on"]
        late = register.listing(conn, which="overdue", today=due5.fromordinal(due5.toordinal() + 1))
        soon = register.listing(conn, which="due", today=date.today())
    assert [r["case_no"] for r in late] == ["C-4", "C-5"] and all(r["overdue"] for r in late)
    assert [r["case_no"] for r in soon] == ["C-4", "C-5"]
