"""Working-day calendar: official holidays and make-up working days (调休上班), pure.

Sources, strongest first:

1. **Loaded year tables** (``YearTable``): what an admin loaded from the State Council's notice
   (``liuhen calendar load FILE``). A loaded year wins over everything else for every day of it.
2. **Built-in**: the ``chinese-calendar`` package (2004–2026 in version 1.11; it raises
   ``NotImplementedError`` for years it does not know, which is how we detect them).
3. **Weekdays only**: a year neither source knows. Days of it count Monday–Friday as working days and
   every result that used such a day is *provisional* and names the missing year.

Year table format (TOML or JSON, same keys)::

    year = 2027
    source = "国务院办公厅关于2027年部分节假日安排的通知"   # free text, shown in `calendar status`
    holidays = ["2027-01-01", "2027-02-06..2027-02-13"]   # days off; "A..B" is an inclusive range
    workdays = ["2027-02-14"]                            # make-up working days (weekend days worked)

Every date must lie in ``year``; a day cannot be both; a make-up working day must be a Saturday or
Sunday (a weekday is a working day anyway). Duplicates are errors (they are usually typos).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from liuhen.publication.errors import CalendarTableInvalid

MAX_RANGE_DAYS = 31


@dataclass(frozen=True)
class YearTable:
    """One year's official schedule: days off and make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "source": self.source,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
        }


def _parse_day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CalendarTableInvalid(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from exc


def _expand(entry: object, where: str) -> list[date]:
    if not isinstance(entry, str):
        raise CalendarTableInvalid(f"{where}: {entry!r} must be a string 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD'")
    if ".." not in entry:
        return [_parse_day(entry, where)]
    a_s, b_s = entry.split("..", 1)
    a, b = _parse_day(a_s, where), _parse_day(b_s, where)
    if b < a or (b - a).days >= MAX_RANGE_DAYS:
        raise CalendarTableInvalid(f"{where}: range {entry!r} must run forwards and span at most {MAX_RANGE_DAYS} days")
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def _days(doc: Mapping[str, Any], key: str, year: int) -> frozenset[date]:
    raw = doc.get(key, [])
    if not isinstance(raw, list):
        raise CalendarTableInvalid(f"{key} must be a list of dates or ranges")
    out: list[date] = []
    for i, entry in enumerate(raw):
        where = f"{key}[{i}]"
        for d in _expand(entry, where):
            if d.year != year:
                raise CalendarTableInvalid(f"{where}: {d.isoformat()} is not in year {year}")
            if d in out:
                raise CalendarTableInvalid(f"{where}: {d.isoformat()} is listed twice in {key}")
            out.append(d)
    return frozenset(out)


def table_from_mapping(doc: Mapping[str, Any]) -> YearTable:
    """Validate a parsed TOML/JSON document into a ``YearTable`` (errors name the offending entry)."""
    unknown = set(doc) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise CalendarTableInvalid(f"unknown keys {sorted(unknown)}; expected year, source, holidays, workdays")
    year = doc.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1949 < year < 2200:
        raise CalendarTableInvalid(f"year must be an integer year, got {year!r}")
    source = doc.get("source", "")
    if not isinstance(source, str):
        raise CalendarTableInvalid("source must be a string")
    holidays, workdays = _days(doc, "holidays", year), _days(doc, "workdays", year)
    both = sorted(holidays & workdays)
    if both:
        raise CalendarTableInvalid(f"{both[0].isoformat()} is listed both as a holiday and as a make-up working day")
    weekday_makeups = sorted(d for d in workdays if d.weekday() < 5)
    if weekday_makeups:
        d = weekday_makeups[0]
        raise CalendarTableInvalid(
            f"workdays: {d.isoformat()} is a {d.strftime('%A')}; make-up working days are Saturdays or Sundays"
        )
    return YearTable(year, holidays, workdays, source)


def parse_table(text: str, fmt: str = "toml") -> YearTable:
    """Parse a year table from TOML or JSON text."""
    try:
        doc = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalendarTableInvalid(f"not valid {fmt.upper()}: {exc}") from exc
    if not isinstance(doc, dict):
        raise CalendarTableInvalid(f"a year table is a {fmt.upper()} object/table, got {type(doc).__name__}")
    return table_from_mapping(doc)


def builtin_knows(year: int) -> bool:
    """Whether the ``chinese-calendar`` package has this year's official schedule."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    basis: str  # "loaded" | "builtin" | "weekdays-only"


@dataclass
class WorkingCalendar:
    """Loaded tables over the built-in calendar over weekdays-only (see module docstring)."""

    tables: Mapping[int, YearTable] = field(default_factory=dict)
    use_builtin: bool = True

    @classmethod
    def with_tables(cls, tables: Iterable[YearTable], *, use_builtin: bool = True) -> WorkingCalendar:
        return cls({t.year: t for t in tables}, use_builtin)

    def basis(self, year: int) -> str:
        if year in self.tables:
            return "loaded"
        if self.use_builtin and builtin_knows(year):
            return "builtin"
        return "weekdays-only"

    def day(self, d: date) -> DayInfo:
        table = self.tables.get(d.year)
        if table is not None:
            working = d in table.workdays or (d.weekday() < 5 and d not in table.holidays)
            return DayInfo(d, working, "loaded")
        if self.use_builtin and builtin_knows(d.year):
            return DayInfo(d, bool(chinese_calendar.is_workday(d)), "builtin")
        return DayInfo(d, d.weekday() < 5, "weekdays-only")

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """Of ``years``, those computed on weekdays only."""
        return sorted({y for y in years if self.basis(y) == "weekdays-only"})
