"""cases/service.py: case numbers (the CLI and API share one rule)."""

from __future__ import annotations

import pytest

from liuhen.cases import service
from liuhen.core.errors import InvalidRequest


@pytest.mark.parametrize("bad", ["罚/2024/1", "a\\b", ".", "..", "  ", ""])
def test_create_case_refuses_unaddressable_numbers(runtime, bad: str) -> None:
    with pytest.raises(InvalidRequest, match="case number"):
        service.create_case(runtime, case_no=bad, agency="a", subject="s", case_type="penalty", actor="t")


def test_full_width_and_brackets_are_kept_exactly(runtime) -> None:
    no = "京公（朝）行罚决字〔2024〕第123号"
    row = service.create_case(runtime, case_no=f" {no} ", agency="a", subject="s", case_type="penalty", actor="t")
    assert row["case_no"] == no and service.get_case(runtime, no)["case_no"] == no
