"""Masking rules: each expected value is the rule in the module docstring applied by hand."""

from __future__ import annotations

from datetime import date

import pytest

from liuhen.publication.errors import PersonalDataInText
from liuhen.publication.masking import (
    find_personal_data,
    is_legal_person,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)
from liuhen.publication.public_text import CaseFacts, build_public_text, check_public


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张○"),          # two characters: surname + ○
        ("王小明", "王○"),        # the given name's length is not shown
        ("欧阳娜娜", "欧阳○"),    # compound surnames kept whole
        ("司马光", "司马○"),
        ("诸葛亮", "诸葛○"),
        ("上官婉儿", "上官○"),
        ("司马", "司○"),          # two characters: 司 is the surname, 马 the given name
        ("阿卜杜·热合曼", "阿○"),  # interpunct names keep only the first character
        (" 李四 ", "李○"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("subject", "legal"),
    [
        ("北京某某科技有限公司", True),
        ("某某农民专业合作社", True),
        ("某某律师事务所（特殊普通合伙）", True),
        ("老王烧烤店", True),      # 5 characters with a one-character suffix
        ("张三", False),
        ("王建行", False),         # a personal name ending in a suffix character
        ("欧阳建店", False),       # 4 characters, one-character suffix: could be a name
        ("阿卜杜·热合曼", False),
    ],
)
def test_is_legal_person(subject: str, legal: bool) -> None:
    assert is_legal_person(subject) is legal


def test_id_numbers() -> None:
    # keep the 6-digit region and the last 4 (with the X check digit); hide the birth date
    assert mask_id_number("身份证号11010519491231002X，") == "身份证号110105********002X，"
    assert mask_id_number("110105491231002") == "110105*****1002"  # 15-digit: 6 + 5 hidden + 4
    # digits inside a longer number or an alphanumeric code are not an ID
    assert mask_id_number("91110000MA01ABCD2X") == "91110000MA01ABCD2X"
    assert mask_id_number("1101051949123100201") == "1101051949123100201"


def test_phone_numbers() -> None:
    assert mask_phone("电话13812345678。") == "电话138****5678。"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("010-62345678") == "010-****5678"
    assert mask_phone("0755-2345678") == "0755-***5678"
    assert mask_phone("罚款20000元") == "罚款20000元"


def test_mask_text_masks_named_persons_longest_first() -> None:
    out = mask_text("欧阳娜娜与欧阳、张三（电话13912345678）", ["欧阳娜娜", "张三"])
    assert out == "欧阳○与欧阳、张○（电话139****5678）"


def _facts(**kw: object) -> CaseFacts:
    base: dict[str, object] = {
        "case_no": "京市监罚〔2026〕12号", "agency": "北京市某区市场监督管理局", "subject": "诸葛明远",
        "case_type": "penalty", "decided_on": date(2026, 12, 1),
        "conclusion": "当事人诸葛明远（身份证号11010519491231002X，电话13812345678）销售过期食品，罚款5000元。",
    }
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


def test_public_text_of_a_natural_person() -> None:
    text = build_public_text(_facts())
    assert text == (
        "执法机关：北京市某区市场监督管理局\n案号：京市监罚〔2026〕12号\n当事人：诸葛○\n执法类别：行政处罚\n"
        "决定日期：2026-12-01\n"
        "决定内容：当事人诸葛○（身份证号110105********002X，电话138****5678）销售过期食品，罚款5000元。\n"
    )
    check_public(text, _facts())
    assert find_personal_data(text, ["诸葛明远"]) == []


def test_public_text_of_a_legal_person_shows_it_in_full_but_masks_its_representative() -> None:
    facts = _facts(subject="北京某某科技有限公司", persons=["李四"],
                   conclusion="北京某某科技有限公司（法定代表人李四）未按规定公示信息，警告。")
    text = build_public_text(facts)
    assert "当事人：北京某某科技有限公司\n" in text and "法定代表人李○" in text and "李四" not in text


def test_check_public_refuses_an_edited_text_that_reveals_personal_data() -> None:
    facts = _facts()
    edited = build_public_text(facts).replace("诸葛○", "诸葛明远", 1) + "联系电话 010-62345678\n"
    with pytest.raises(PersonalDataInText, match=r"name '诸葛明远'.*phone '010-62345678'"):
        check_public(edited, facts)
