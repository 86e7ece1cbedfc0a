"""Masking personal data in text meant for the public — pure.

Rules (个人信息去标识化 for 行政执法公示):

- A natural person's name becomes the surname plus one ``○`` whatever the given name's length
  (``张三`` → ``张○``, ``张伟明`` → ``张○``): the length of the given name is not shown either.
  Compound surnames (``欧阳``, ``司马``, ``诸葛`` … ``COMPOUND_SURNAMES``) are kept whole when the name
  has at least three characters (``欧阳娜娜`` → ``欧阳○``; a two-character ``司马`` is 司 + 马 → ``司○``).
  Names written with an interpunct (``阿卜杜·热合曼``) keep only their first character.
- Resident ID numbers (18 digits, the last may be X; and old 15-digit ones): first 6 (region) and last
  4 kept, the birth date and sequence hidden: ``110101********123X``. Numeric 18-character unified
  social credit codes look the same and are masked too (the safe direction).
- Mobile numbers (11 digits starting 1[3-9]): ``138****5678``; landlines ``0xx(x)-nnnnnnn(n)``:
  area code and last 4 kept.
- Legal persons (enterprises, organisations) are shown in full: ``is_legal_person`` recognises them by
  their organisational suffix (公司, 厂, 合作社, 事务所 …; ≥ 4 characters with a two-character suffix,
  ≥ 5 with a one-character one, since a personal name has at most 4); a subject that is not recognised
  is treated as a natural person (the safe direction) unless the caller says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "○"
COMPOUND_SURNAMES = frozenset(  # the compound surnames of 百家姓, plus 独孤 and 纳兰
    "万俟 司马 上官 欧阳 夏侯 诸葛 闻人 东方 赫连 皇甫 尉迟 公羊 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 "
    "公孙 仲孙 轩辕 令狐 钟离 宇文 长孙 慕容 鲜于 闾丘 司徒 司空 亓官 司寇 子车 颛孙 端木 巫马 公西 漆雕 "
    "乐正 壤驷 公良 拓跋 夹谷 宰父 谷梁 段干 百里 东郭 南门 呼延 归海 羊舌 微生 梁丘 左丘 东门 西门 南宫 "
    "第五 独孤 纳兰".split()
)
LEGAL_PERSON_SUFFIXES = (
    "公司", "集团", "厂", "店", "行", "社", "中心", "合作社", "事务所", "医院", "诊所", "学校", "大学", "学院",
    "幼儿园", "协会", "学会", "基金会", "委员会", "研究院", "研究所", "银行", "酒店", "宾馆", "饭店", "超市",
    "商场", "市场", "工作室", "俱乐部", "农场", "牧场", "养殖场", "加工场", "站", "馆", "所", "部", "局", "院",
)
_SUFFIXES_LONGEST_FIRST = sorted(LEGAL_PERSON_SUFFIXES, key=len, reverse=True)
_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])"  # 18-digit resident ID
    r"|(?<![0-9A-Za-z])(\d{6})(\d{5})(\d{4})(?![0-9A-Za-z])"  # old 15-digit ID
)
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3})-(\d{3,4})(\d{4})(?!\d)")


def surname(name: str) -> str:
    """The surname of a Chinese personal name (compound surnames kept whole when the name has ≥ 3 chars)."""
    name = name.strip()
    if not name:
        return ""
    if "·" in name or "•" in name:
        return name[0]
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[0]


def mask_name(name: str) -> str:
    """``张三`` → ``张○``; ``欧阳娜娜`` → ``欧阳○`` (see module docstring)."""
    s = surname(name)
    return s + MASK if s else ""


def is_legal_person(subject: str) -> bool:
    """Whether a party's name is an enterprise or organisation (recognised by its suffix)."""
    s = re.sub(r"[（(][^）)]*[）)]$", "", subject.strip())  # "某某公司（分公司）" -> "某某公司"
    if "·" in s or "•" in s:
        return False
    suffix = next((x for x in _SUFFIXES_LONGEST_FIRST if s.endswith(x)), None)
    if suffix is None:
        return False
    # a personal name has at most 4 characters: single-character suffixes (店, 厂 …) need 5
    return len(s) >= (4 if len(suffix) > 1 else 5)


def mask_id_number(text: str) -> str:
    """Mask every resident ID number in ``text`` (first 6 and last 4 kept)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1) + "*" * 8 + m.group(3)[-4:]
        return m.group(4) + "*" * 5 + m.group(6)

    return _ID_RE.sub(repl, text)


def mask_phone(text: str) -> str:
    """Mask mobile numbers (``138****5678``) and landlines (``010-****5678``) in ``text``."""
    text = _MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE_RE.sub(lambda m: f"{m.group(1)}-{'*' * len(m.group(2))}{m.group(3)}", text)


@dataclass(frozen=True)
class Leak:
    kind: str  # "name" | "id_number" | "phone"
    value: str


def mask_text(text: str, natural_persons: Iterable[str] = ()) -> str:
    """Mask the named natural persons (longest names first), then ID and phone numbers."""
    for name in sorted({n.strip() for n in natural_persons if n.strip()}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return mask_phone(mask_id_number(text))


def find_personal_data(text: str, natural_persons: Iterable[str] = ()) -> list[Leak]:
    """Personal data still readable in ``text``: unmasked names of the given persons, IDs, phone numbers."""
    leaks = [Leak("name", n) for n in sorted({n.strip() for n in natural_persons}) if len(n) >= 2 and n in text]
    leaks += [Leak("id_number", m.group(0)) for m in _ID_RE.finditer(text)]
    leaks += [Leak("phone", m.group(0)) for m in _MOBILE_RE.finditer(text)]
    leaks += [Leak("phone", m.group(0)) for m in _LANDLINE_RE.finditer(text)]
    return leaks
