"""Issue 16 item 1: a control character in a text field that reaches a bag.

The rule (``liuhen.core.text``): text fields never hold control characters or line breaks. Export
refuses such a row before writing a byte (rows that predate the rule, or that bypassed the API), naming
the field and the character; ``bag-info.txt`` can therefore never gain an injected tag line. Before the
fix the export succeeded, ``bag-info.txt`` held the flattened value, the manifest event the original
one, and the bag's own ``verify.py`` declared the honest export INVALID.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import bagit
import pytest

from liuhen.export.errors import UnsafeBagText
from liuhen.export.service import export_case
from tests.export.test_service import _verify_py, exported  # noqa: F401  (module fixture)

HOSTILE = "Agency\nPayload-Oxum: 1.1\nExternal-Identifier: forged"


def _set(rt: Any, case_no: str, column: str, value: str) -> str:
    with rt.catalog.tx() as conn:
        old = conn.execute(f"SELECT {column} FROM cases WHERE case_no = %s", (case_no,)).fetchone()[column]
        conn.execute(f"UPDATE cases SET {column} = %s WHERE case_no = %s", (value, case_no))
    return str(old)


@pytest.mark.parametrize(("column", "value", "char"), [
    ("agency", HOSTILE, "U+000A"),
    ("subject", "闯红灯\r\nBagging-Date: 1999-01-01", "U+000D"),
    ("agency", "执法局\u2028Contact-Name: x", "U+2028"),
])
def test_a_control_character_in_a_case_field_is_refused_before_any_byte(
        exported: dict[str, Any], tmp_path: Path, column: str, value: str, char: str) -> None:  # noqa: F811
    rt, case_no = exported["rt"], exported["case"]["case_no"]
    before = rt.catalog.one("SELECT count(*) AS n FROM exports")["n"]
    old = _set(rt, case_no, column, value)
    try:
        with pytest.raises(UnsafeBagText, match=rf"case\.{column} contains {re.escape(char)}"):
            export_case(rt, case_no, tmp_path / "bag", actor="clerk:chen")
    finally:
        _set(rt, case_no, column, old)
    assert not (tmp_path / "bag").exists() and list(tmp_path.iterdir()) == []  # no staging left behind
    assert rt.catalog.one("SELECT count(*) AS n FROM exports")["n"] == before


def test_an_exporter_name_with_a_newline_is_refused(exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    with pytest.raises(UnsafeBagText, match="exporter contains U"):
        export_case(exported["rt"], exported["case"]["case_no"], tmp_path / "bag", actor="clerk\nPayload-Oxum: 1.1")


def test_full_width_and_bracketed_agency_names_round_trip_through_bagit_and_verify_py(
        exported: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    """What the rule allows arrives intact: 〔〕, full-width characters and double spaces, checked by the
    Library of Congress ``bagit`` and by the bag's own ``verify.py``."""
    rt, case_no = exported["rt"], exported["case"]["case_no"]
    agency = "杭州市〔２０２６〕综合行政执法局  第一大队"
    old = _set(rt, case_no, "agency", agency)
    try:
        res = export_case(rt, case_no, tmp_path / "bag", actor="clerk:chen")
    finally:
        _set(rt, case_no, "agency", old)
    bag = bagit.Bag(str(res.path))
    bag.validate()
    assert bag.info["Source-Organization"] == agency and bag.info["Liuhen-Agency"] == agency
    info = (res.path / "bag-info.txt").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("Payload-Oxum:") for line in info) == 1
    r = _verify_py(res.path)
    assert r.returncode == 0 and "VERDICT: VALID" in r.stdout, r.stdout
