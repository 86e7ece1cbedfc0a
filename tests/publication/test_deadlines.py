"""Publication deadlines: known answers, each derived by hand from the official schedule.

Builtin schedule for 2026 (chinese-calendar 1.11 = 国办发明电〔2025〕7号): Spring Festival off 02-15..02-23,
make-up Saturdays 02-14 and 02-28; National Day off 10-01..10-07, make-up Saturday 10-10.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from liuhen.publication.deadlines import DeadlinePolicy, add_working_days, decision_day, publication_deadline
from liuhen.publication.errors import DeadlineRuleInvalid
from liuhen.publication.workdays import WorkingCalendar, YearTable, parse_table

DATA = Path(__file__).parent / "data"
BUILTIN = WorkingCalendar()


def with_2027() -> WorkingCalendar:
    return WorkingCalendar.with_tables([parse_table((DATA / "test-2027.toml").read_text())])


def test_issue_example_tuesday_plus_7_is_next_thursday() -> None:
    # Art. 201: 12-01 not counted; 12-02 W 1, 03 Th 2, 04 F 3, 07 M 4, 08 T 5, 09 W 6, 10 Th 7.
    d = add_working_days(BUILTIN, date(2026, 12, 1), 7)
    assert d.due == date(2026, 12, 10)
    assert not d.provisional and d.missing_years == ()


def test_national_day_2026_skips_holidays_and_counts_makeup_saturday() -> None:
    # 09-28 Mon decision: 09-29 1, 09-30 2, 10-01..07 off, 10-08 3, 10-09 4, 10-10 (Sat, make-up) 5,
    # 10-11 Sun off, 10-12 6, 10-13 7.  Without the make-up day it would be 10-14.
    assert add_working_days(BUILTIN, date(2026, 9, 28), 7).due == date(2026, 10, 13)
    # 09-30 decision, 20 days: 10-08 1, 10-09 2, 10-10 3, 10-12..16 4-8, 10-19..23 9-13,
    # 10-26..30 14-18, 11-02 19, 11-03 20.
    assert add_working_days(BUILTIN, date(2026, 9, 30), 20).due == date(2026, 11, 3)


def test_spring_festival_2026_due_on_a_makeup_saturday() -> None:
    # 02-12 Thu decision: 02-13 1, 02-14 (Sat, make-up) 2, 02-15..23 off, 02-24..27 3-6, 02-28 (Sat, make-up) 7.
    d = add_working_days(BUILTIN, date(2026, 2, 12), 7)
    assert d.due == date(2026, 2, 28) and d.due.weekday() == 5


def test_no_2027_table_is_provisional_and_named_then_exact_once_loaded() -> None:
    # 12-28 Mon: 12-29 1, 12-30 2, 12-31 3, then 2027 unknown -> weekdays only: 01-01 (Fri) 4, 01-04 5,
    # 01-05 6, 01-06 7.  With the fixture (01-01..03 off): 01-04 4, 01-05 5, 01-06 6, 01-07 7.
    d = add_working_days(BUILTIN, date(2026, 12, 28), 7)
    assert (d.due, d.provisional, d.missing_years) == (date(2027, 1, 6), True, (2027,))
    assert "PROVISIONAL" in d.describe() and "2027" in d.describe()
    exact = add_working_days(with_2027(), date(2026, 12, 28), 7)
    assert (exact.due, exact.provisional, exact.missing_years) == (date(2027, 1, 7), False, ())
    assert "PROVISIONAL" not in exact.describe()


def test_loaded_table_wins_over_builtin() -> None:
    # Pretend a 2026 notice made 12-02 a holiday: 12-03 1, 04 2, 07 3, 08 4, 09 5, 10 6, 11 7.
    t = YearTable(2026, frozenset({date(2026, 12, 2)}), frozenset(), "test")
    assert add_working_days(WorkingCalendar.with_tables([t]), date(2026, 12, 1), 7).due == date(2026, 12, 11)


def test_deadline_within_a_year_is_exact_even_when_later_years_are_missing() -> None:
    assert not add_working_days(BUILTIN, date(2026, 12, 1), 20).provisional  # due 2026-12-29


def test_seven_vs_twenty_days_by_case_type() -> None:
    policy = DeadlinePolicy()
    at = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
    due = {t: publication_deadline(BUILTIN, policy, decided_at=at, agency="A", case_type=t).due
           for t in ("permit", "penalty", "coercive", "levy", "inspection")}
    # 20 working days from 12-01: Dec 2-4 (3), 7-11 (8), 14-18 (13), 21-25 (18), 28 (19), 29 (20).
    assert due == {"permit": date(2026, 12, 10), "penalty": date(2026, 12, 10), "coercive": date(2026, 12, 29),
                   "levy": date(2026, 12, 29), "inspection": date(2026, 12, 29)}


def test_agency_rule_beats_defaults() -> None:
    policy = DeadlinePolicy(rules={("某市税务局", "levy"): (5, "某法第十条"), ("某市税务局", "*"): (10, "某条例")})
    at = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
    levy = publication_deadline(BUILTIN, policy, decided_at=at, agency="某市税务局", case_type="levy")
    assert levy.working_days == 5 and levy.due == date(2026, 12, 8) and "某法第十条" in levy.basis
    other = publication_deadline(BUILTIN, policy, decided_at=at, agency="某市税务局", case_type="penalty")
    assert other.working_days == 10
    assert publication_deadline(BUILTIN, policy, decided_at=at, agency="B", case_type="penalty").working_days == 7
    with pytest.raises(DeadlineRuleInvalid):
        DeadlinePolicy(rules={("A", "*"): (0, "x")})


def test_decision_day_is_china_standard_time() -> None:
    # 17:00 UTC on 11-30 is 01:00 on 12-01 in Beijing.
    assert decision_day(datetime.fromisoformat("2026-11-30T17:00:00+00:00")) == date(2026, 12, 1)
    assert decision_day(datetime(2026, 11, 30, 15, 59)) == date(2026, 11, 30)  # naive = UTC, 23:59 CST


def test_overdue_only_after_the_due_day_ends() -> None:
    d = add_working_days(BUILTIN, date(2026, 12, 1), 7)
    assert not d.overdue_on(date(2026, 12, 10)) and d.overdue_on(date(2026, 12, 11))
