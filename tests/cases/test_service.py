"""cases/service.py: case numbers (the CLI and API share one rule)."""

from __future__ import annotations

import pytest

from liuhen.cases import service
from liuhen.cases import service as cases
from liuhen.cases.principal import Principal
from liuhen.core.errors import Forbidden, InvalidRequest
from tests.cases.helpers import CLERK, SUP, events, new_case


@pytest.mark.parametrize("bad", ["罚/2024/1", "a\\b", ".", "..", "  ", ""])
def test_create_case_refuses_unaddressable_numbers(runtime, bad: str) -> None:
    with pytest.raises(InvalidRequest, match="case number"):
        service.create_case(runtime, case_no=bad, agency="a", subject="s", case_type="penalty", actor="t")


def test_full_width_and_brackets_are_kept_exactly(runtime) -> None:
    no = "京公（朝）行罚决字〔2024〕第123号"
    row = service.create_case(runtime, case_no=f" {no} ", agency="a", subject="s", case_type="penalty", actor="t")
    assert row["case_no"] == no and service.get_case(runtime, no)["case_no"] == no


# The text rule (liuhen.core.text): every text field that enters the case file is refused, naming the
# field and the character, when it holds a control character or a line break. Nothing is written.
INJECT = "Agency\nPayload-Oxum: 1.1"


def _case(runtime, no: str = "T1") -> None:  # type: ignore[no-untyped-def]
    service.create_case(runtime, case_no=no, agency="A", subject="S", case_type="penalty", actor="t")


@pytest.mark.parametrize("field", ["agency", "subject", "unit_code"])
def test_case_text_fields_refuse_control_characters(runtime, field: str) -> None:
    kw = {"agency": "A", "subject": "S", "unit_code": "U1", field: INJECT}
    with pytest.raises(InvalidRequest, match=rf"{field} contains U\+000A \(LINE FEED\) at position 6"):
        service.create_case(runtime, case_no="T1", case_type="penalty", actor="t", **kw)
    assert runtime.catalog.one("SELECT count(*) AS n FROM cases")["n"] == 0


@pytest.mark.parametrize(("field", "value", "named"), [
    ("place", "仓库\r", "place contains U+000D"),
    ("officers", ["110001", "x\x85"], "officers[1] contains U+0085"),
    ("note", "a\tb", "note contains U+0009"),
    ("kind", "seiz\x7fure", "kind contains U+007F"),
])
def test_activity_text_fields_refuse_control_characters(runtime, field: str, value: object, named: str) -> None:
    _case(runtime)
    kw = {"kind": "seizure", "place": "仓库", "officers": ["110001"], "note": None, field: value}
    with pytest.raises(InvalidRequest, match=named.replace("[", r"\[").replace("]", r"\]").replace("+", r"\+")):
        service.add_activity(runtime, "T1", stage="filing", starts_at="2024-05-06T09:00:00Z",
                             ends_at="2024-05-06T09:10:00Z", actor="t", **kw)
    assert runtime.catalog.one("SELECT count(*) AS n FROM activities")["n"] == 0


def test_link_unlink_review_and_recording_list_refuse_control_characters(runtime) -> None:
    from liuhen.cases.principal import Principal

    _case(runtime)
    with pytest.raises(InvalidRequest, match=r"proves contains U\+000A"):
        service.link_clip(runtime, "T1", "0" * 64, stage="filing", proves="a\nb", actor="t")
    with pytest.raises(InvalidRequest, match=r"reason contains U\+2029"):
        service.unlink(runtime, "T1", 1, actor="t", reason="x\u2029")
    with pytest.raises(InvalidRequest, match=r"opinion contains U\+000A"):
        service.record_legal_review(runtime, "T1", reviewer=Principal("lr", "legal_reviewer"), opinion="ok\n",
                                    approved=True)
    with pytest.raises(InvalidRequest, match=r"reason contains U\+001B"):
        service.release_hold(runtime, "0" * 64, Principal("s", "supervisor"), "mistake \x1b[2J")
    with pytest.raises(InvalidRequest, match=r"label contains U\+000A"):
        service.set_recording_item(runtime, kind="seizure", recording="full_av", label="查封\n扣押", actor="t")


# legal reviews need a legal reviewer, in the service itself (not only the HTTP role matrix)


def test_record_legal_review_requires_a_legal_reviewer_principal(runtime):
    new_case(runtime, "LR-1", major=True)
    for st in ("investigation", "review"):
        cases.advance_stage(runtime, "LR-1", st, "clerk1")
    for reviewer in ("cli:root", "legal:赵敏", CLERK, SUP, Principal("adm", "admin")):
        with pytest.raises(Forbidden):
            cases.record_legal_review(runtime, "LR-1", reviewer=reviewer, opinion="同意", approved=True)  # type: ignore[arg-type]
    assert events(runtime, "legal_review") == []
    row = cases.record_legal_review(
        runtime, "LR-1", reviewer=Principal("legal:赵敏", "legal_reviewer"), opinion="同意", approved=True
    )
    assert row["reviewer"] == "legal:赵敏"
    assert cases.advance_stage(runtime, "LR-1", "decision", "clerk1")["stage"] == "decision"
