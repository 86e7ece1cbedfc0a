"""One rule for control characters in text that people type and that reaches an evidence bag.

A case's agency, subject or number, an activity's place, an officer's name… end up in line-oriented
tag files (``bag-info.txt``, ``README.txt``) as well as in JSON. A newline there splits one field into
two lines — an honest export then fails its own verifier, and a hostile value can try to inject a tag
line such as ``Payload-Oxum: 1.1``. The rule: **such text never holds a control character** (Unicode
category Cc: C0 incl. TAB/CR/LF, DEL, C1 incl. NEL) **nor a line or paragraph separator** (U+2028,
U+2029, which ``str.splitlines`` treats as line breaks). It is refused where it enters — the API and
CLI (the case service calls ``check_text``) — and again by ``liuhen export`` before any byte is written,
for rows that predate the rule. Nothing is silently rewritten.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from liuhen.core.errors import InvalidRequest

_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x00": "NUL", "\x7f": "DELETE",
          "\x85": "NEXT LINE"}


def first_control(value: str) -> tuple[int, str] | None:
    """``(position, character)`` of the first refused character in ``value``, or None."""
    for i, c in enumerate(value):
        if unicodedata.category(c) in _REFUSED_CATEGORIES:
            return i, c
    return None


def describe(field: str, value: str) -> str | None:
    """Why ``value`` may not be stored in ``field`` (naming the character and position), or None."""
    hit = first_control(value)
    if hit is None:
        return None
    i, c = hit
    name = _NAMES.get(c) or unicodedata.name(c, "control character")
    return (f"{field} contains U+{ord(c):04X} ({name}) at position {i}; text fields may not contain control "
            "characters or line breaks")


def check_text(field: str, value: object) -> None:
    """Raise ``InvalidRequest`` (422) when ``value`` is a string holding a refused character."""
    if isinstance(value, str):
        why = describe(field, value)
        if why is not None:
            raise InvalidRequest(why)


def find_controls(value: Any, path: str = "") -> list[str]:
    """Every refused string inside a JSON-like structure, named by its path (``items[0].links[1].proves``)."""
    out: list[str] = []
    if isinstance(value, str):
        why = describe(path or "value", value)
        if why:
            out.append(why)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            out += find_controls(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += find_controls(v, f"{path}[{i}]")
    return out
