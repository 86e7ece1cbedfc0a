"""``liuhen.core.text``: the one rule for control characters in text that reaches a bag."""

from __future__ import annotations

import re

import pytest

from liuhen.core.errors import InvalidRequest
from liuhen.core.text import check_text, describe, find_controls


@pytest.mark.parametrize(("value", "code"), [
    ("a\nb", "U+000A"), ("a\rb", "U+000D"), ("a\tb", "U+0009"), ("a\x00b", "U+0000"), ("a\x7fb", "U+007F"),
    ("a\x85b", "U+0085"), ("a\u2028b", "U+2028"), ("a\u2029b", "U+2029"),
])
def test_control_characters_and_line_separators_are_refused_naming_field_character_and_position(
        value: str, code: str) -> None:
    with pytest.raises(InvalidRequest, match=rf"agency contains {re.escape(code)} \(.*\) at position 1") as ei:
        check_text("agency", value)
    assert ei.value.status == 422


@pytest.mark.parametrize("value", ["杭州市〔2026〕综合行政执法局", "ＡＢＣ１２３", "a  b", "", "杭执罚〔2026〕第12号"])
def test_ordinary_text_including_full_width_and_brackets_passes(value: str) -> None:
    check_text("agency", value)
    assert describe("agency", value) is None


def test_non_strings_are_not_text() -> None:
    check_text("major", True)
    check_text("id", 5)


def test_find_controls_names_the_path_inside_a_document() -> None:
    doc = {"items": [{"links": [{"proves": "ok"}, {"proves": "x\ny"}]}], "case": {"agency": "fine"}}
    assert find_controls(doc) == [
        "items[0].links[1].proves contains U+000A (LINE FEED) at position 1; text fields may not contain "
        "control characters or line breaks"]
