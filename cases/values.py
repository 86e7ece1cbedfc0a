"""Checks on values that enter the case file: times, stages, case numbers and free text.

Text rule: every text field a person types (case number, agency, subject, an activity's place and
officers, a link's purpose, an opinion, a reason, a purpose…) may not hold a control character or a
line break (``liuhen.core.text``): such text reaches line-oriented tag files in evidence bags. It is
refused where it enters, with an ``InvalidRequest`` (HTTP 422) naming the field, the character and
its position; nothing is rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from liuhen.catalog.stages import STAGES
from liuhen.core.errors import InvalidRequest
from liuhen.core.text import check_text


def check_texts(fields: Iterable[tuple[str, object]]) -> None:
    """``check_text`` for each ``(field, value)``; list values are checked item by item (``officers[1]``)."""
    for field, value in fields:
        if isinstance(value, list | tuple):
            for i, item in enumerate(value):
                check_text(f"{field}[{i}]", item)
        else:
            check_text(field, value)


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InvalidRequest(f"unknown stage {stage!r}; stages in order: {', '.join(STAGES)}")
    return stage


# A case number is one URL path segment (GET /cases/{case_no}): '/' and '\\' would make it unreachable.
# Real 案号 use 〔〕（）and full-width characters, all accepted: 京公（朝）行罚决字〔2024〕第123号.
_C = r"\x00-\x1f\x7f-\x9f\u2028\u2029/\\"  # control characters (the text rule), '/' and '\\'
# not only dots (".", "..": path segments) nor only white space (stripped to nothing)
CASE_NO_PATTERN = rf"^[^{_C}]*[^\s{_C}.][^{_C}]*$"


def check_case_no(case_no: str) -> str:
    """``case_no`` stripped, or ``InvalidRequest`` naming what is wrong with it."""
    check_text("case_no", case_no)
    case_no = case_no.strip()
    if not re.fullmatch(CASE_NO_PATTERN, case_no):
        raise InvalidRequest(
            f"case number {case_no!r} cannot be used: it must not be empty or only dots, nor contain '/' or '\\' "
            "(a case number is addressed as /cases/<case_no>)"
        )
    return case_no
