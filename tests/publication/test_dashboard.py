"""The supervisor's dashboard: real charts of the expected size; overdue publications listed."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from liuhen.cases import service as cases
from liuhen.publication import dashboard
from liuhen.publication.deadlines import CHINA_TZ


def test_dashboard_lists_overdue_and_draws_three_charts(runtime: Any) -> None:
    cases.create_case(runtime, case_no="B-1", agency="A", subject="张三", case_type="penalty", actor="c",
                      unit_code="U9")
    t = datetime.now(UTC) - timedelta(days=1)
    cases.add_activity(runtime, "B-1", stage="investigation", kind="seizure", starts_at=t,
                       ends_at=t + timedelta(minutes=30), actor="c")
    for stage in ("investigation", "review", "decision"):
        cases.advance_stage(runtime, "B-1", stage, "c")
    due = runtime.catalog.one("SELECT due_on FROM publications")["due_on"]
    page = dashboard.render(runtime, due + timedelta(days=1))
    assert "逾期未公示 (1)" in page and "B-1" in page and "待公示 (0)" in page
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(pngs) == 3
    assert {Image.open(io.BytesIO(base64.b64decode(p))).size for p in pngs} == {(800, 400)}
    cov = dashboard.monthly_coverage(runtime, due)
    assert len(cov.values) == 12 and cov.values[t.astimezone(CHINA_TZ).strftime("%Y-%m")] == 0.0  # no footage
