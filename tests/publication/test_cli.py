"""The publication commands as an operator runs them (real subprocesses on the test database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liuhen.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.slow  # 13 CLI subprocesses, ~50 s on 2 shared cores
def test_calendar_publication_and_report_commands(settings: Any, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LIUHEN_DATABASE_URL": settings.database_url,
           "LIUHEN_DATA_DIR": str(settings.data_dir), "LIUHEN_STORE": "local", "LIUHEN_ACTOR": "cli:test"}
    st = run(env, "calendar", "status")
    # today is in 2026 on this machine's clock; 2027 is missing until loaded (the test adapts to later years)
    missing = st.returncode == 1
    assert ("PROVISIONAL" in st.stderr) == missing, st.stderr
    made = run(env, "case", "create", "K-1", "--agency", "某局", "--subject", "欧阳娜娜", "--type", "permit")
    assert made.returncode == 0, made.stderr
    for stage in ("investigation", "review", "decision"):
        assert run(env, "case", "stage", "K-1", stage).returncode == 0
    rows = json.loads(run(env, "publication", "list", "--due", "--json").stdout)
    assert [r["case_no"] for r in rows] == ["K-1"] and rows[0]["working_days"] == 7
    bad = run(env, "publication", "publish", "K-1")
    assert bad.returncode == 2 and "no approved text" in bad.stderr
    ok = run(env, "publication", "approve", "K-1", "--conclusion", "准予欧阳娜娜（电话13912345678）的许可申请。")
    assert ok.returncode == 0 and "准予欧阳○（电话139****5678）" in ok.stdout, ok.stderr
    assert "published (version 1)" in run(env, "publication", "publish", "K-1").stdout
    loaded = run(env, "calendar", "load", str(DATA / "test-2027.toml"))
    assert loaded.returncode == 0 and "loaded 2027: 10 holidays, 1 make-up working days" in loaded.stdout
    out = tmp_path / "report"
    made = run(env, "report", "annual", "2026", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "OK:" in run(env, "report", "verify", str(out)).stdout
    wb = load_workbook(out / "figures.xlsx")
    ws = wb["figures"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "cases_by_type" and r[2].value == "permit")
    row[3].value = 5
    wb.save(out / "figures.xlsx")
    bad = run(env, "report", "verify", str(out))
    assert bad.returncode == 2 and "figures.xlsx: figure cases_by_type/permit = 5, recomputed 1" in bad.stderr
