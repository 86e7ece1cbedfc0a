"""Fixity compares every fact the ingestion event recorded with the catalog, not only digest and size.

A ``files`` row edited in SQL (recording time, officer number, device, storage key…) would otherwise
feed a forged export statement; the log is the reference (I1, I6; AV evidence must state production
time and producer — 制作时间、制作人).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from liuhen.ingest.offload import ingest_path
from liuhen.integrity import fixity, log
from liuhen.integrity.errors import VerificationError
from tests.ingest.helpers import make_recorder


@pytest.fixture
def ingested(runtime, tmp_path: Path):  # type: ignore[no-untyped-def]
    dock = tmp_path / "dock"
    make_recorder(dock / "port01", "SN0001", "110101", n=3, size=20_000)
    ingest_path(runtime, dock, actor="test:clerk")
    rows = runtime.catalog.all("SELECT * FROM files ORDER BY id")
    assert len(rows) == 3 and all(r["ingest_event_id"] for r in rows)
    return runtime, rows


def test_real_ingest_passes_and_ingestion_facts_read_the_log(ingested) -> None:  # type: ignore[no-untyped-def]
    rt, rows = ingested
    rep = fixity.run(rt.catalog, rt.store, "auditor")
    assert rep.ok and rep.checked == 3, [r.problems for r in rep.results]
    row = rows[0]
    facts = fixity.ingestion_facts(rt.catalog, row["sha256"])
    assert facts["officer_no"] == "110101" and facts["device_serial"] == "SN0001"
    assert facts["unit_code"] == row["unit_code"] and facts["storage_key"] == row["storage_key"]
    assert datetime.fromisoformat(facts["recorded_at"]) == row["recorded_at"]
    assert facts["event_id"] == row["ingest_event_id"]
    assert log.leaf(rt.catalog, facts["log_index"]).event_id == row["ingest_event_id"]
    assert fixity.ingestion_facts(rt.catalog, "0" * 64) == {}


def test_metadata_forged_in_sql_is_reported_field_by_field(ingested) -> None:  # type: ignore[no-untyped-def]
    """The reviewer's forgery: UPDATE files SET recorded_at=…, officer_no='999999' must not go unnoticed."""
    rt, rows = ingested
    target = rows[1]
    with rt.catalog.tx() as conn:
        conn.execute("UPDATE files SET recorded_at = recorded_at - interval '3 days', officer_no = '999999', "
                     "device_serial = 'SN9999', unit_code = NULL, original_name = 'other.mp4' WHERE id = %s",
                     (target["id"],))
    rep = fixity.run(rt.catalog, rt.store, "auditor")
    assert rep.failed == 1
    bad = next(r for r in rep.results if not r.ok)
    assert bad.file_id == target["id"]
    text = "\n".join(bad.problems)
    assert "officer_no differs from ingestion leaf" in text and "expected 110101 (log), found 999999 (catalog)" in text
    assert "device_serial differs" in text and "expected SN0001 (log), found SN9999 (catalog)" in text
    assert "unit_code differs from ingestion leaf" in text and "found null (catalog)" in text
    assert "original_name differs" in text and "found other.mp4 (catalog)" in text
    # the statement source stays truthful: the facts come from the log, not the forged row
    facts = fixity.ingestion_facts(rt.catalog, target["sha256"])
    rec_line = next(p for p in bad.problems if "recorded_at differs" in p)
    assert f"expected {facts['recorded_at']} (log), found " in rec_line
    assert facts["officer_no"] == "110101"
    assert datetime.fromisoformat(facts["recorded_at"]) == target["recorded_at"]
    ev = log.leaf(rt.catalog, bad.event_idx).event  # type: ignore[arg-type]
    assert ev.type == "fixity.check" and ev.data["outcome"] == "fail"


def test_storage_key_and_ingest_event_pointer_forged(ingested) -> None:  # type: ignore[no-untyped-def]
    rt, rows = ingested
    a, b = rows[0], rows[2]
    with rt.catalog.tx() as conn:
        # point a's ingest_event_id at b's ingestion event; give b a storage key that is not its address
        conn.execute("UPDATE files SET ingest_event_id = %s WHERE id = %s", (b["ingest_event_id"], a["id"]))
        conn.execute("UPDATE files SET storage_key = %s WHERE id = %s", (a["storage_key"], b["id"]))
    rep = fixity.run(rt.catalog, rt.store, "auditor")
    probs = {r.file_id: "\n".join(r.problems) for r in rep.results if not r.ok}
    assert set(probs) == {a["id"], b["id"]}
    assert "sha256 differs from ingestion leaf" in probs[a["id"]]
    assert ("storage_key differs from ingestion leaf" in probs[b["id"]]
            and f"expected {b['storage_key']} (log), found {a['storage_key']} (catalog)" in probs[b["id"]])


def test_ingestion_facts_refuse_an_edited_leaf(ingested) -> None:  # type: ignore[no-untyped-def]
    rt, rows = ingested
    with rt.catalog.tx() as conn:  # an attacker with superuser: triggers off, edit the leaf body
        conn.execute("ALTER TABLE log_events DISABLE TRIGGER USER")
        conn.execute("UPDATE log_events SET body = replace(convert_from(body, 'UTF8'), '110101', '999999')::bytea "
                     "WHERE id = %s", (rows[0]["ingest_event_id"],))
        conn.execute("ALTER TABLE log_events ENABLE TRIGGER USER")
    with pytest.raises(VerificationError, match="ingestion leaf"):
        fixity.ingestion_facts(rt.catalog, rows[0]["sha256"])
    rep = fixity.run(rt.catalog, rt.store, "auditor")
    bad = next(r for r in rep.results if r.file_id == rows[0]["id"])
    assert any("body does not hash to its leaf hash" in p for p in bad.problems)
