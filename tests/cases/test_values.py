"""cases/values.py: the text rule applied to the values that enter the case file."""

from __future__ import annotations

import pytest

from liuhen.cases.values import check_case_no, check_texts
from liuhen.core.errors import InvalidRequest


def test_list_items_are_named_by_index() -> None:
    with pytest.raises(InvalidRequest, match=r"officers\[1\] contains U\+2028"):
        check_texts((("officers", ["110001", "11\u20280002"]),))


def test_none_and_plain_text_pass() -> None:
    check_texts((("place", None), ("officers", []), ("agency", "某市市场监督管理局（执法一队）")))


def test_case_number_with_a_newline_is_refused_before_it_is_stripped() -> None:
    # " X\n".strip() would hide the newline: the rule is checked on the value as sent.
    with pytest.raises(InvalidRequest, match=r"case_no contains U\+000A \(LINE FEED\) at position 2"):
        check_case_no(" X\n")
