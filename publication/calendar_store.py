"""Loaded working-day tables and per-agency deadline rules, kept in the catalog (migration 0800).

``load_year`` records the table and a ``calendar.load`` event; the caller (``register.load_calendar``)
then recomputes, in the same transaction, every provisional deadline of a publication not yet out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from liuhen.cases.access import record_event
from liuhen.publication.deadlines import DeadlinePolicy
from liuhen.publication.errors import CalendarTableInvalid, DeadlineRuleInvalid
from liuhen.publication.workdays import WorkingCalendar, YearTable, builtin_knows, parse_table, table_from_mapping

Conn = psycopg.Connection[Any]
CASE_TYPES_OR_ALL = ("permit", "penalty", "coercive", "levy", "inspection", "*")


def read_table_file(path: Path) -> YearTable:
    if not path.is_file():
        raise CalendarTableInvalid(f"{path}: no such file")
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    try:
        return parse_table(path.read_text("utf-8"), fmt)
    except CalendarTableInvalid as exc:
        raise CalendarTableInvalid(f"{path}: {exc}") from exc


def calendar(conn: Conn) -> WorkingCalendar:
    """Built-in schedule plus the latest loaded table of every year."""
    rows = conn.execute(
        "SELECT DISTINCT ON (year) table_json FROM calendar_years ORDER BY year, id DESC"
    ).fetchall()
    return WorkingCalendar.with_tables(table_from_mapping(r["table_json"]) for r in rows)


def policy(conn: Conn) -> DeadlinePolicy:
    rows = conn.execute("SELECT agency, case_type, working_days, legal_basis FROM publication_rules").fetchall()
    return DeadlinePolicy(rules={(r["agency"], r["case_type"]): (r["working_days"], r["legal_basis"]) for r in rows})


def set_rule(conn: Conn, agency: str, case_type: str, days: int, legal_basis: str, actor: str) -> None:
    """Set the publication period of an agency (``case_type`` ``*`` = every type) where a law sets one."""
    if case_type not in CASE_TYPES_OR_ALL or not agency.strip():
        raise DeadlineRuleInvalid(f"rule needs an agency and a case type among {', '.join(CASE_TYPES_OR_ALL)}")
    DeadlinePolicy(rules={(agency, case_type): (days, legal_basis)})  # validates days and basis
    record_event(conn, "publication.rule", actor, data={
        "agency": agency, "case_type": case_type, "working_days": days, "legal_basis": legal_basis})
    conn.execute(
        "INSERT INTO publication_rules (agency, case_type, working_days, legal_basis, set_by) VALUES (%s,%s,%s,%s,%s) "
        "ON CONFLICT (agency, case_type) DO UPDATE SET working_days = EXCLUDED.working_days, "
        "legal_basis = EXCLUDED.legal_basis, set_by = EXCLUDED.set_by, set_at = now()",
        (agency, case_type, days, legal_basis, actor),
    )


def load_year(conn: Conn, table: YearTable, actor: str) -> dict[str, Any]:
    """Store ``table`` (the latest load of a year wins) with its ``calendar.load`` event."""
    doc = table.as_json()
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    ev = record_event(conn, "calendar.load", actor, data={**doc, "sha256": digest})
    conn.execute(
        "INSERT INTO calendar_years (year, table_json, source, sha256, loaded_by, event_id) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (table.year, Jsonb(doc), table.source, digest, actor, ev),
    )
    return {"year": table.year, "holidays": len(table.holidays), "workdays": len(table.workdays),
            "source": table.source, "sha256": digest}


@dataclass(frozen=True)
class YearStatus:
    year: int
    basis: str  # loaded | builtin | weekdays-only
    source: str
    warning: str | None

    def as_json(self) -> dict[str, Any]:
        return {"year": self.year, "basis": self.basis, "source": self.source, "warning": self.warning}


def status(conn: Conn, today: date) -> list[YearStatus]:
    """This year and the next: where their schedule comes from; a warning for a missing one.

    Next year's schedule is needed as soon as a 20-working-day deadline can reach it (from about
    November on); the warning is given for any missing year among these two, with the command to fix it.
    """
    loaded = {r["year"]: r["source"] for r in conn.execute(
        "SELECT DISTINCT ON (year) year, source FROM calendar_years ORDER BY year, id DESC").fetchall()}
    out = []
    for y in (today.year, today.year + 1):
        basis = "loaded" if y in loaded else "builtin" if builtin_knows(y) else "weekdays-only"
        warning = None
        if basis == "weekdays-only":
            warning = (f"no working-day table for {y}: deadlines reaching {y} are PROVISIONAL (weekdays only); "
                       f"load the State Council's schedule with `liuhen calendar load FILE`")
        out.append(YearStatus(y, basis, loaded.get(y, "chinese-calendar" if basis == "builtin" else ""), warning))
    return out
