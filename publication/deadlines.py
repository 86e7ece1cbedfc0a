"""Publication deadlines in working days, counted as the law counts periods — pure.

- The period starts the day *after* the decision (民法典 Art. 201: 开始的当日不计入).
- ``n`` working days later is the due date; it ends at 24:00 that day (Art. 203), so a record is
  overdue only from the next calendar day on. Counting working days already moves a period that
  would end on a holiday to the next working day (Art. 203 ¶1).
- 7 working days for permits (许可) and penalties (处罚), 20 for every other decision (State Council
  guideline on 行政执法公示制度), unless a rule for the agency (a law that says otherwise) sets another
  number: ``DeadlinePolicy.rules``.
- A deadline that counted any day of a year with no official schedule (see ``workdays``) is
  *provisional* and names the missing year(s).

Decision times are instants; the calendar day is taken in China Standard Time (UTC+8, no DST).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from liuhen.publication.errors import DeadlineRuleInvalid
from liuhen.publication.workdays import WorkingCalendar

CHINA_TZ = timezone(timedelta(hours=8), "CST")
DEFAULT_DAYS_BY_TYPE: Mapping[str, int] = {"permit": 7, "penalty": 7}
DEFAULT_DAYS = 20
MAX_DAYS = 366


@dataclass(frozen=True)
class Deadline:
    decided_on: date
    working_days: int
    due: date
    provisional: bool
    missing_years: tuple[int, ...] = ()
    basis: str = ""

    def describe(self) -> str:
        s = f"{self.due.isoformat()} ({self.working_days} working days after {self.decided_on.isoformat()}"
        if self.basis:
            s += f"; {self.basis}"
        s += ")"
        if self.provisional:
            years = ", ".join(str(y) for y in self.missing_years)
            s += f" PROVISIONAL: no working-day table for {years}; weekdays only"
        return s

    def overdue_on(self, today: date) -> bool:
        return today > self.due

    def as_json(self) -> dict[str, Any]:
        return {
            "decided_on": self.decided_on.isoformat(),
            "working_days": self.working_days,
            "due": self.due.isoformat(),
            "provisional": self.provisional,
            "missing_years": list(self.missing_years),
            "basis": self.basis,
        }


def decision_day(decided_at: datetime) -> date:
    """The calendar day of a decision instant, in China Standard Time (naive = UTC)."""
    if decided_at.tzinfo is None:
        decided_at = decided_at.replace(tzinfo=UTC)
    return decided_at.astimezone(CHINA_TZ).date()


def add_working_days(cal: WorkingCalendar, start: date, n: int, basis: str = "") -> Deadline:
    """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
    if not 1 <= n <= MAX_DAYS:
        raise DeadlineRuleInvalid(f"working days must be 1..{MAX_DAYS}, got {n}")
    d, counted, years = start, 0, set()
    while counted < n:
        d += timedelta(days=1)
        info = cal.day(d)
        if info.basis == "weekdays-only":
            years.add(d.year)
        if info.working:
            counted += 1
    return Deadline(start, n, d, bool(years), tuple(sorted(years)), basis)


@dataclass(frozen=True)
class DeadlinePolicy:
    """Working days by case type, with per-agency rules where a law sets another period.

    ``rules`` maps ``(agency, case_type)`` — ``case_type`` may be ``"*"`` — to ``(days, legal basis)``.
    An exact (agency, type) rule beats (agency, "*"), which beats the defaults.
    """

    by_type: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS_BY_TYPE))
    default: int = DEFAULT_DAYS
    rules: Mapping[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, (days, why) in self.rules.items():
            if not 1 <= days <= MAX_DAYS or not why.strip():
                raise DeadlineRuleInvalid(f"rule {key}: days must be 1..{MAX_DAYS} and a legal basis given")

    def days_for(self, agency: str, case_type: str) -> tuple[int, str]:
        for key in ((agency, case_type), (agency, "*")):
            if key in self.rules:
                days, why = self.rules[key]
                return days, f"rule for {agency}: {why}"
        if case_type in self.by_type:
            return self.by_type[case_type], f"{case_type}: {self.by_type[case_type]} working days (许可/处罚 7日)"
        return self.default, f"{case_type}: {self.default} working days"


def publication_deadline(
    cal: WorkingCalendar, policy: DeadlinePolicy, *, decided_at: datetime, agency: str, case_type: str
) -> Deadline:
    """The publication deadline of a decision taken at ``decided_at``."""
    days, basis = policy.days_for(agency, case_type)
    return add_working_days(cal, decision_day(decided_at), days, basis)
