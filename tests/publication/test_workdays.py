"""Year tables: parsing, validation (errors name the entry) and precedence."""

from __future__ import annotations

import json
from datetime import date

import pytest

from liuhen.publication.errors import CalendarTableInvalid
from liuhen.publication.workdays import WorkingCalendar, builtin_knows, parse_table


def test_toml_and_json_give_the_same_table() -> None:
    toml = 'year = 2027\nsource = "x"\nholidays = ["2027-01-01..2027-01-03"]\nworkdays = ["2027-02-13"]\n'
    doc = {"year": 2027, "source": "x", "holidays": ["2027-01-01..2027-01-03"], "workdays": ["2027-02-13"]}
    a, b = parse_table(toml), parse_table(json.dumps(doc), "json")
    assert a == b
    assert a.holidays == {date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)}
    assert a.as_json()["holidays"] == ["2027-01-01", "2027-01-02", "2027-01-03"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('year = 2027\nholidays = ["2026-12-31"]', "holidays[0]: 2026-12-31 is not in year 2027"),
        ('year = 2027\nholidays = ["2027-13-01"]', "holidays[0]: '2027-13-01' is not a date"),
        ('year = 2027\nholidays = ["2027-01-05..2027-01-01"]', "must run forwards"),
        ('year = 2027\nholidays = ["2027-01-01", "2027-01-01"]', "listed twice"),
        ('year = 2027\nholidays = ["2027-02-13"]\nworkdays = ["2027-02-13"]', "both as a holiday"),
        ('year = 2027\nworkdays = ["2027-02-15"]', "2027-02-15 is a Monday"),
        ('year = "2027"', "year must be an integer"),
        ('year = 2027\nholiday = []', "unknown keys ['holiday']"),
        ("year = ", "not valid TOML"),
    ],
)
def test_bad_tables_are_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(CalendarTableInvalid, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_table(text)


def test_sources_and_basis() -> None:
    assert builtin_knows(2026) and not builtin_knows(2027)
    cal = WorkingCalendar.with_tables([parse_table('year = 2027\nholidays = ["2027-01-01"]')])
    assert cal.basis(2026) == "builtin" and cal.basis(2027) == "loaded" and cal.basis(2028) == "weekdays-only"
    assert cal.day(date(2027, 1, 1)).working is False
    assert cal.day(date(2028, 1, 3)).working is True  # Monday, weekdays only
    assert cal.missing_years([2026, 2027, 2028, 2029]) == [2028, 2029]
    # 2026-10-10 is a make-up Saturday in the builtin schedule; without the builtin it is a weekend day
    assert cal.day(date(2026, 10, 10)).working is True
    assert WorkingCalendar(use_builtin=False).day(date(2026, 10, 10)).working is False
